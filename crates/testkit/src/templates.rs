//! `TestApp` methods for the template endpoints (`/api/templates*`,
//! `/api/toggle-telegram-template`, `/api/render`), one per route of
//! `domains/templates/routes.rs`.
use reqwest::multipart::{Form, Part};
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::TestApp;

/// `form` with one file part per `(field, bytes)`, the file named after its field.
fn with_files(mut form: Form, parts: &[(&str, &[u8])]) -> Form {
    for (field, bytes) in parts {
        form = form.part(
            field.to_string(),
            Part::bytes(bytes.to_vec()).file_name(field.to_string()),
        );
    }
    form
}

impl TestApp {
    pub async fn list_templates(&self) -> Response {
        self.send(Method::GET, "/api/templates", None).await
    }

    /// Upload a template: `name` and one background per variant, e.g.
    /// `&[("square", png), ("portrait", png)]` (the fields `logo` and `font` go the same way).
    pub async fn create_template(&self, name: &str, images: &[(&str, &[u8])]) -> Response {
        let form = with_files(Form::new().text("name", name.to_owned()), images);
        self.request(Method::POST, "/api/templates")
            .multipart(form)
            .send()
            .await
            .expect("request sent")
    }

    /// By id or slug.
    pub async fn get_template(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/api/templates/{id}"), None)
            .await
    }

    /// Replace the spec.
    pub async fn update_template(&self, id: &str, spec: &Value) -> Response {
        self.send(
            Method::PUT,
            &format!("/api/templates/{id}"),
            Some(spec.clone()),
        )
        .await
    }

    pub async fn delete_template(&self, id: &str) -> Response {
        self.send(Method::DELETE, &format!("/api/templates/{id}"), None)
            .await
    }

    /// Replace backgrounds, the logo or the font: `&[("font", bytes)]`, `&[("square", png)]`.
    pub async fn replace_template_assets(&self, id: &str, assets: &[(&str, &[u8])]) -> Response {
        self.request(Method::POST, &format!("/api/templates/{id}/assets"))
            .multipart(with_files(Form::new(), assets))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn remove_template_logo(&self, id: &str) -> Response {
        self.send(Method::DELETE, &format!("/api/templates/{id}/logo"), None)
            .await
    }

    pub async fn template_image(&self, id: &str, variant: &str) -> Response {
        self.send(
            Method::GET,
            &format!("/api/templates/{id}/images/{variant}"),
            None,
        )
        .await
    }

    pub async fn template_logo(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/api/templates/{id}/logo"), None)
            .await
    }

    /// The template as a zip archive.
    pub async fn export_template(&self, id: &str) -> Response {
        self.send(Method::GET, &format!("/api/templates/{id}/export"), None)
            .await
    }

    /// Render with an unsaved spec: `{"spec", "variant", "code", "format"?}`.
    pub async fn preview_template(&self, id: &str, body: Value) -> Response {
        self.send(
            Method::POST,
            &format!("/api/templates/{id}/preview"),
            Some(body),
        )
        .await
    }

    /// Import an exported archive (`application/zip` body).
    pub async fn import_template(&self, zip: Vec<u8>) -> Response {
        self.request(Method::POST, "/api/templates/import")
            .header("content-type", "application/zip")
            .body(zip)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn bulk_delete_templates(&self, ids: &[&str]) -> Response {
        self.send(
            Method::POST,
            "/api/templates/bulk-delete",
            Some(json!({ "ids": ids })),
        )
        .await
    }

    /// Show or hide a template in the Telegram bot (the original's path).
    pub async fn toggle_telegram_template(&self, id: &str, enabled: bool) -> Response {
        self.send(
            Method::POST,
            "/api/toggle-telegram-template",
            Some(json!({ "id": id, "enabled": enabled })),
        )
        .await
    }

    /// `POST /api/render` with `{"template", "variant", "code", "format"?, "logo"?}`.
    pub async fn render(&self, body: Value) -> Response {
        self.send(Method::POST, "/api/render", Some(body)).await
    }

    /// [`TestApp::render`] as a revalidation with `If-None-Match: etag`.
    pub async fn render_if_none_match(&self, body: Value, etag: &str) -> Response {
        self.request(Method::POST, "/api/render")
            .header("if-none-match", etag)
            .json(&body)
            .send()
            .await
            .expect("request sent")
    }
}
