//! The API as one table: every domain's routes, and the OpenAPI document generated from them.
//! It sits above http/ (infrastructure) and domains/ (features) so neither imports the other's
//! whole: domains' routes.rs use http/, and only this module lists the domains.
pub mod openapi;

use crate::http::Route;

/// Every route of every domain: the single table the guard and the OpenAPI check read.
pub fn route_table() -> Vec<Route> {
    let mut routes = Vec::new();
    routes.extend(crate::domains::system::routes::routes());
    routes.extend(crate::auth::routes::routes());
    routes.extend(crate::domains::tenants::routes::routes());
    routes.extend(crate::domains::templates::routes::routes());
    routes.extend(crate::domains::bot::routes::routes());
    routes.extend(crate::domains::coupons::routes::routes());
    routes.extend(crate::domains::campaigns::routes::routes());
    routes.extend(crate::domains::analytics::routes::routes());
    routes.extend(crate::domains::broadcast::routes::routes());
    routes.extend(crate::domains::backtests::routes::routes());
    routes.extend(crate::domains::connections::routes::routes());
    routes.extend(crate::domains::forex::routes::routes());
    routes
}

/// The application's router: [`route_table`] on the HTTP infrastructure.
pub fn router(state: crate::state::AppState) -> axum::Router {
    crate::http::router(state, route_table())
}
