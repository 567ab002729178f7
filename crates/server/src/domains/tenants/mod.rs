//! Tenants (workspaces) and their members.
pub mod repo;
pub mod routes;
pub mod service;

pub use service::{Member, Membership, Tenant, TenantService};
