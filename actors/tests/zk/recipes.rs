//! Recipes (see the modules of rolecall_actors::zk).
