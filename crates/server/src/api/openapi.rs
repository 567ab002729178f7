//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations.
use std::sync::OnceLock;

use utoipa::OpenApi;

use crate::auth::routes as auth;
use crate::domains::analytics::routes as analytics;
use crate::domains::backtests::routes as backtests;
use crate::domains::bot::routes as bot;
use crate::domains::broadcast::routes as broadcast;
use crate::domains::campaigns::routes as campaigns;
use crate::domains::connections::routes as connections;
use crate::domains::coupons::routes as coupons;
use crate::domains::forex::routes as forex;
use crate::domains::system::routes as system;
use crate::domains::templates::routes as templates;
use crate::domains::tenants::routes as tenants;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "PromoStack API",
        description = "Branded coupons, broadcasts and signals for Telegram marketers. Errors are JSON {\"error\", \"code\"}."
    ),
    paths(
        system::healthz,
        system::readyz,
        system::metrics_text,
        system::openapi,
        system::status,
        auth::login,
        auth::logout,
        auth::logout_everywhere,
        tenants::me,
        tenants::get_tenant,
        tenants::update_tenant,
        tenants::list_members,
        tenants::add_member,
        tenants::remove_member,
        tenants::list_tenants,
        tenants::create_tenant,
        templates::list,
        templates::create,
        templates::get_one,
        templates::update,
        templates::delete_one,
        templates::replace_assets,
        templates::remove_logo,
        templates::image,
        templates::logo,
        templates::export,
        templates::import,
        templates::bulk_delete,
        templates::toggle_telegram,
        templates::render,
        templates::preview,
        bot::webhook_default,
        bot::webhook_bot,
        bot::status,
        connections::list,
        connections::save,
        connections::disconnect,
        connections::rotate_secret,
        connections::send_test,
        connections::forex_webhook,
        connections::user_account,
        connections::user_account_code,
        connections::user_account_sign_in,
        connections::user_account_password,
        connections::user_account_test,
        connections::user_account_sign_out,
        coupons::validate,
        coupons::code_rules,
        coupons::list,
        coupons::create,
        coupons::get_one,
        coupons::update,
        coupons::delete_one,
        coupons::import,
        coupons::export,
        coupons::get_settings,
        coupons::update_settings,
        campaigns::list,
        campaigns::create,
        campaigns::get_one,
        campaigns::update,
        campaigns::set_paused,
        campaigns::delete_one,
        campaigns::upload_overlay,
        campaigns::overlay,
        campaigns::remove_overlay,
        campaigns::list_submissions,
        campaigns::export_submissions,
        campaigns::review,
        campaigns::public,
        campaigns::public_overlay,
        campaigns::submit,
        campaigns::composite_image,
        analytics::bot_stats,
        analytics::codes,
        analytics::codes_csv,
        broadcast::create,
        broadcast::audience,
        broadcast::status,
        broadcast::history,
        broadcast::pause,
        broadcast::resume,
        broadcast::cancel,
        broadcast::report,
        backtests::strategies,
        backtests::run,
        forex::list,
        forex::performance,
        forex::get_one,
        forex::config,
        forex::update_config,
        forex::backtest_settings,
        forex::status,
        forex::set_active,
        forex::sparkline,
    )
)]
pub struct ApiDoc;

pub fn document_json() -> String {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("OpenAPI serialises")
    })
    .clone()
}

#[cfg(test)]
mod tests {
    /// Every route in the table is documented, with the same method.
    #[test]
    fn route_table_and_openapi_agree() {
        let doc: serde_json::Value = serde_json::from_str(&super::document_json()).unwrap();
        for route in crate::api::route_table() {
            let method = route.method.as_str().to_lowercase();
            assert!(
                doc["paths"][route.path][&method].is_object(),
                "{} {} is missing from the OpenAPI document",
                route.method,
                route.path
            );
        }
    }
}
