//! Coupon validation: which codes may be rendered (the tenant's own list, the FunderPro CRM, or
//! "accept any"), `/api/validate-coupon`, and the admin API of the list and provider settings.
pub mod cache;
pub mod code;
pub mod csv;
pub mod repo;
pub mod routes;
pub mod service;

pub use code::{CodeError, CouponCode};
pub use service::{CouponCheck, CouponService, Discount, DiscountKind};
