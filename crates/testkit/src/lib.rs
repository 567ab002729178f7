//! Test support: spawn_app() and fakes of outside services (being written).
