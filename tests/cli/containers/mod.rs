//! One container per node: images from local files, `rolecall docker`,
//! `rolecall compose`, `rolecall k8s`. The tests that run containers need
//! root and a Docker daemon (CI has both) and skip themselves otherwise;
//! every Docker object they create is named `rcct-<pid>-<test>-...` and
//! removed, which each test asserts.

mod errors;
mod harness;
mod health;
mod images;
mod manifests;
mod runs;
