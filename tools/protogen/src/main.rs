//! `rolecall-protogen OUT_DIR SCHEMA...`: writes the prost code for each
//! `.proto` schema into OUT_DIR (one `<package or file stem>.rs` per schema).
//! The protobuf compiler is `$PROTOC`, else `protoc` on the PATH (Debian's
//! `protobuf-compiler`). Used by `scripts/regen-protobuf.sh`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: rolecall-protogen OUT_DIR SCHEMA...");
        return ExitCode::from(2);
    };
    let schemas: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if schemas.is_empty() {
        eprintln!("usage: rolecall-protogen OUT_DIR SCHEMA...");
        return ExitCode::from(2);
    }
    for schema in &schemas {
        if let Err(e) = generate(&out, schema) {
            eprintln!("error: {}: {e}", schema.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// Compiles one schema; a schema without a `package` (as the course's) comes
/// out of prost-build as `_.rs` and is renamed after the file.
fn generate(out: &Path, schema: &Path) -> std::io::Result<()> {
    let include = schema.parent().unwrap_or(Path::new("."));
    let mut config = prost_build::Config::new();
    config.out_dir(out);
    config.compile_protos(&[schema], &[include])?;
    let unnamed = out.join("_.rs");
    if unnamed.exists() {
        let stem = schema.file_stem().unwrap_or_default();
        std::fs::rename(unnamed, out.join(stem).with_extension("rs"))?;
    }
    Ok(())
}
