//! Operations: liveness, readiness, metrics, OpenAPI and the status page's data.
pub mod routes;
