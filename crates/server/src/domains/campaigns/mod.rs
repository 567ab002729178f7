//! Photo campaigns: per-tenant campaigns with a branded overlay, a public participation page
//! (`/campaign/{id}`) and entries (links to social posts) that admins review.
pub mod composite;
pub mod limiter;
pub mod links;
pub mod repo;
pub mod routes;
pub mod service;

pub use service::{Campaign, CampaignService};
