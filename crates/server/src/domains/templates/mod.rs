//! Coupon templates: per-tenant specs + images, versioned; rendering them (`/api/render`).
pub mod archive;
pub mod budget;
pub mod render;
pub mod repo;
pub mod routes;
pub mod service;
pub mod workers;

pub use service::{Template, TemplateService};
