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
        let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("OpenAPI serialises");
        add_shared_responses(&mut doc, &crate::api::route_table());
        serde_json::to_string_pretty(&doc).expect("OpenAPI serialises")
    })
    .clone()
}

/// The answers every route of a kind gets from the shared layers rather than its handler (the
/// guard, the JSON and query extractors, the body limit), added to each operation that does
/// not list them: 401/403 on signed-in routes, 503 where the database is needed, 400/413/415/422
/// on bodies, 400/422 on query strings, 404 on paths with an id. All `{"error", "code"}`.
fn add_shared_responses(doc: &mut serde_json::Value, routes: &[crate::http::Route]) {
    use crate::http::Access;
    let error = |description: &str| {
        serde_json::json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        })
    };
    for route in routes {
        let method = route.method.as_str().to_lowercase();
        let Some(op) = doc
            .pointer_mut(&format!(
                "/paths/{}/{method}",
                route.path.replace('/', "~1")
            ))
            .and_then(|op| op.as_object_mut())
        else {
            continue;
        };
        let has_body = op.contains_key("requestBody");
        let has_query = op
            .get("parameters")
            .and_then(|p| p.as_array())
            .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
        let mut shared: Vec<(&str, &str)> = Vec::new();
        if route.spec.access != Access::Public {
            shared.push(("401", "not signed in, or the session ended"));
            shared.push(("403", "the role or workspace does not allow this"));
        }
        if route.spec.db_required {
            shared.push(("503", "the database cannot answer now"));
        }
        if has_body {
            shared.push(("400", "the body is not valid JSON (or multipart)"));
            shared.push(("413", "the body is over its size limit"));
            shared.push((
                "415",
                "the body is not of the content type this route takes",
            ));
            shared.push(("422", "a field is missing or wrong; `field` names it"));
        }
        if has_query {
            shared.push(("400", "a query parameter cannot be read"));
            shared.push(("422", "a query parameter is out of range; `field` names it"));
        }
        if route.path.contains('{') {
            shared.push(("404", "no such record in this workspace"));
        }
        let responses = op
            .entry("responses")
            .or_insert_with(|| serde_json::json!({}));
        let Some(responses) = responses.as_object_mut() else {
            continue;
        };
        for (status, description) in shared {
            responses
                .entry(status.to_string())
                .or_insert_with(|| error(description));
        }
    }
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
