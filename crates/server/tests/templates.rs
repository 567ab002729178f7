//! Templates and rendering through the HTTP API, on both backends and on S3 storage.
use std::sync::OnceLock;

use promostack_testkit::{
    Backend, TestApp, backend_tests, expect_error, json, spawn_app, spawn_app_with,
};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

backend_tests!(
    uploaded_fonts,
    template_lifecycle,
    bad_uploads_and_specs,
    templates_are_tenant_scoped,
    storage_failure_leaves_no_template
);

/// The demo "Summer Sale" backgrounds (1080×1080 and 1080×1350 PNGs), drawn once per process.
fn backgrounds() -> &'static (Vec<u8>, Vec<u8>) {
    static IMAGES: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    IMAGES.get_or_init(|| {
        let demo = promostack_render::demo::demo_templates().remove(1);
        let find = |v: &str| {
            demo.images
                .iter()
                .find(|(name, _)| name == v)
                .unwrap()
                .1
                .clone()
        };
        (find("square"), find("portrait"))
    })
}

fn part(bytes: &[u8], file: &str) -> Part {
    Part::bytes(bytes.to_vec()).file_name(file.to_owned())
}

async fn upload(
    app: &TestApp,
    name: &str,
    square: Option<&[u8]>,
    portrait: Option<&[u8]>,
) -> reqwest::Response {
    let mut form = Form::new().text("name", name.to_owned());
    if let Some(bytes) = square {
        form = form.part("square", part(bytes, "a.png"));
    }
    if let Some(bytes) = portrait {
        form = form.part("portrait", part(bytes, "b.png"));
    }
    app.request(reqwest::Method::POST, "/api/templates")
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn render(app: &TestApp, body: Value) -> reqwest::Response {
    app.request(reqwest::Method::POST, "/api/render")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn template_lifecycle(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login_admin().await;
    lifecycle_on(&app).await;
}

/// The whole story; run on local storage (per backend) and on S3.
async fn lifecycle_on(app: &TestApp) {
    // These suites are about templates and rendering; coupon checks have their own tests.
    app.use_coupon_provider("any").await;
    let (square, portrait) = backgrounds();
    let created = json(
        upload(app, "Spring Deal", Some(square), Some(portrait)).await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["slug"], "spring-deal");
    assert_eq!(created["version"], 1);
    assert_eq!(created["variants"]["portrait"]["height"], 1350);
    let text_box = &created["spec"]["variants"]["square"]["text"];
    assert!(text_box["x"].as_u64().unwrap() + text_box["width"].as_u64().unwrap() <= 1080);
    expect_error(
        upload(app, "Spring Deal", Some(square), None).await,
        409,
        "conflict",
    )
    .await;

    // Listing, lookup by slug, the stored image is the uploaded one.
    let list = json(
        app.request(reqwest::Method::GET, "/api/templates")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(list["templates"].as_array().unwrap().len(), 1);
    let by_slug = json(
        app.request(reqwest::Method::GET, "/api/templates/spring-deal")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(by_slug["id"], id.as_str());
    let image = app
        .request(
            reqwest::Method::GET,
            &format!("/api/templates/{id}/images/square"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.bytes().await.unwrap().as_ref(), square.as_slice());

    // Render: JPEG bytes, an ETag, the same ETag again (cache), 304 on If-None-Match.
    let body = json!({"template": id, "variant": "square", "code": "SPRING25", "format": "jpeg"});
    let first = render(app, body.clone()).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-type"], "image/jpeg");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let jpeg = first.bytes().await.unwrap();
    assert_eq!(&jpeg[..3], &[0xFF, 0xD8, 0xFF]);
    let decoded = image_size(&jpeg);
    assert_eq!(decoded, (1080, 1080));
    let again = render(app, body.clone()).await;
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(
        again.bytes().await.unwrap(),
        jpeg,
        "identical inputs, identical bytes"
    );
    let not_modified = app
        .request(reqwest::Method::POST, "/api/render")
        .header("if-none-match", &etag)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), 304);
    let other_code = render(
        app,
        json!({"template": "spring-deal", "variant": "square", "code": "OTHER", "format": "jpeg"}),
    )
    .await;
    assert_ne!(other_code.headers()["etag"].to_str().unwrap(), etag);

    // Edit the spec: move the box, change colour; the version and the ETag change.
    let mut spec = created["spec"].clone();
    spec["variants"]["square"]["text"] = json!({"x": 100, "y": 100, "width": 600, "height": 150});
    spec["style"]["color"] = json!("#FF0000");
    let updated = json(
        app.request(reqwest::Method::PUT, &format!("/api/templates/{id}"))
            .json(&spec)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["spec"]["variants"]["square"]["text"]["x"], 100);
    let after_edit = render(app, body.clone()).await;
    assert_ne!(
        after_edit.headers()["etag"].to_str().unwrap(),
        etag,
        "edits invalidate cached renders"
    );

    // Unknown fields in the spec are kept.
    spec["campaign"] = json!("spring-2026");
    let kept = json(
        app.request(reqwest::Method::PUT, &format!("/api/templates/{id}"))
            .json(&spec)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(kept["spec"]["campaign"], "spring-2026");

    // Telegram visibility through the original's path.
    let hidden = json(
        app.request(reqwest::Method::POST, "/api/toggle-telegram-template")
            .json(&json!({"id": id, "enabled": false}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(hidden["telegramEnabled"], false);
    assert_eq!(hidden["spec"]["telegramEnabled"], false);

    // Editor preview with an unsaved box: an image, and the saved template is unchanged.
    let mut draft = kept["spec"].clone();
    draft["variants"]["square"]["text"] = json!({"x": 0, "y": 0, "width": 1080, "height": 300});
    let preview = app
        .request(
            reqwest::Method::POST,
            &format!("/api/templates/{id}/preview"),
        )
        .json(&json!({"spec": draft, "variant": "square", "code": "DRAFT", "format": "jpeg"}))
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), 200);
    let still = json(
        app.request(reqwest::Method::GET, &format!("/api/templates/{id}"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(still["spec"]["variants"]["square"]["text"]["x"], 100);

    // Export, then import as a copy under another slug.
    let zip = app
        .request(reqwest::Method::GET, &format!("/api/templates/{id}/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let zip = zip.bytes().await.unwrap();
    expect_error(import(app, zip.to_vec()).await, 409, "conflict").await;
    let renamed = rewrite_slug(&zip, "spring-copy");
    let copy = json(import(app, renamed).await, 201).await;
    assert_eq!(copy["slug"], "spring-copy");
    assert_eq!(copy["spec"]["campaign"], "spring-2026");
    assert_eq!(copy["spec"]["variants"]["square"]["text"]["x"], 100);

    // Bulk delete; deleted templates no longer render.
    let deleted = json(
        app.request(reqwest::Method::POST, "/api/templates/bulk-delete")
            .json(&json!({"ids": [id, copy["id"], "not-a-template"]}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(deleted["deleted"], 2);
    expect_error(render(app, body).await, 404, "not_found").await;
    let list = json(
        app.request(reqwest::Method::GET, "/api/templates")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(list["templates"].as_array().unwrap().is_empty());
}

async fn import(app: &TestApp, zip: Vec<u8>) -> reqwest::Response {
    app.request(reqwest::Method::POST, "/api/templates/import")
        .header("content-type", "application/zip")
        .body(zip)
        .send()
        .await
        .unwrap()
}

/// Re-pack an exported archive with another slug in meta.json.
fn rewrite_slug(zip_bytes: &[u8], slug: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if name == "meta.json" {
            let mut meta: Value = serde_json::from_slice(&data).unwrap();
            meta["slug"] = json!(slug);
            data = serde_json::to_vec(&meta).unwrap();
        }
        out.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

fn image_size(bytes: &[u8]) -> (u32, u32) {
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .unwrap();
    reader.into_dimensions().unwrap()
}

/// A PNG whose header claims `width`×`height` (a decompression bomb needs no more to be caught).
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    png.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
    png
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

async fn bad_uploads_and_specs(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login_admin().await;
    app.use_coupon_provider("any").await;
    let (square, _) = backgrounds();
    expect_error(
        upload(&app, "Text", Some(b"this is not an image"), None).await,
        415,
        "unsupported_media_type",
    )
    .await;
    expect_error(
        upload(&app, "Truncated", Some(&square[..square.len() / 3]), None).await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        upload(&app, "Bomb", Some(&png_claiming(100_000, 100_000)), None).await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        upload(&app, "Nothing", None, None).await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        upload(&app, "", Some(square), None).await,
        422,
        "validation_failed",
    )
    .await;
    let list = json(
        app.request(reqwest::Method::GET, "/api/templates")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(
        list["templates"].as_array().unwrap().is_empty(),
        "no half template after rejected uploads"
    );

    let created = json(upload(&app, "Good", Some(square), None).await, 201).await;
    let id = created["id"].as_str().unwrap();
    let put = |spec: Value| {
        app.request(reqwest::Method::PUT, &format!("/api/templates/{id}"))
            .json(&spec)
            .send()
    };
    for (path, value) in [
        (
            "/variants/square/text",
            json!({"x": 1000, "y": 0, "width": 500, "height": 100}),
        ),
        (
            "/variants/square/text",
            json!({"x": 0, "y": 0, "width": 0, "height": 100}),
        ),
        ("/style/color", json!("red")),
        ("/style/strokeColor", json!("#12345")),
    ] {
        let mut spec = created["spec"].clone();
        *spec.pointer_mut(path).unwrap() = value;
        expect_error(put(spec).await.unwrap(), 422, "validation_failed").await;
    }
    let mut with_unknown_variant = created["spec"].clone();
    with_unknown_variant["variants"]["banner"] = with_unknown_variant["variants"]["square"].clone();
    expect_error(
        put(with_unknown_variant).await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let unchanged = json(
        app.request(reqwest::Method::GET, &format!("/api/templates/{id}"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(unchanged["version"], 1, "rejected edits change nothing");

    // Render input: (request body, status, code); each is refused with a JSON error.
    let too_long = "X".repeat(65);
    let cases = [
        (
            json!({"template": id, "variant": "square", "code": ""}),
            422,
            "validation_failed",
        ),
        (
            json!({"template": id, "variant": "square", "code": "ABC\u{7}"}),
            422,
            "validation_failed",
        ),
        (
            json!({"template": id, "variant": "square", "code": too_long}),
            422,
            "validation_failed",
        ),
        (
            json!({"template": id, "variant": "portrait", "code": "A"}),
            422,
            "validation_failed",
        ),
        (
            json!({"template": "nope", "variant": "square", "code": "A"}),
            404,
            "not_found",
        ),
        (
            json!({"template": id, "variant": "square", "code": "A", "format": "gif"}),
            422,
            "validation_failed",
        ),
    ];
    for (body, status, code) in cases {
        expect_error(render(&app, body).await, status, code).await;
    }
    // Emoji are not coupon codes: /api/render refuses them before rendering.
    expect_error(
        render(
            &app,
            json!({"template": id, "variant": "square", "code": "GO🚀你好", "format": "jpeg"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    // Glyphs the font lacks still render with a fallback, never a crash (the editor's preview
    // draws any sample text).
    let spec = json(
        app.request(reqwest::Method::GET, &format!("/api/templates/{id}"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await["spec"]
        .clone();
    let emoji = app
        .request(
            reqwest::Method::POST,
            &format!("/api/templates/{id}/preview"),
        )
        .json(&json!({"spec": spec, "variant": "square", "code": "GO🚀你好", "format": "jpeg"}))
        .send()
        .await
        .unwrap();
    assert_eq!(emoji.status(), 200);
    // A custom logo must be an image.
    let bad_logo = render(
        &app,
        json!({"template": id, "variant": "square", "code": "A", "logo": "bm90IGFuIGltYWdl"}),
    )
    .await;
    expect_error(bad_logo, 415, "unsupported_media_type").await;
    // Archives: not a zip, no meta.json.
    expect_error(
        import(&app, b"PK not really".to_vec()).await,
        422,
        "validation_failed",
    )
    .await;
}

async fn templates_are_tenant_scoped(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login_admin().await;
    let (square, _) = backgrounds();
    let a = json(upload(&app, "Tenant A deal", Some(square), None).await, 201).await;
    let b = json(app.admin_create_tenant("B", "tenant-b", None).await, 201).await;
    app.use_tenant(b["id"].as_str());
    app.use_coupon_provider("any").await;
    let id = a["id"].as_str().unwrap();
    let list = json(
        app.request(reqwest::Method::GET, "/api/templates")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(list["templates"].as_array().unwrap().is_empty());
    for path in [
        format!("/api/templates/{id}"),
        format!("/api/templates/{id}/images/square"),
        format!("/api/templates/{id}/export"),
    ] {
        expect_error(
            app.request(reqwest::Method::GET, &path)
                .send()
                .await
                .unwrap(),
            404,
            "not_found",
        )
        .await;
    }
    for template in [id, "tenant-a-deal"] {
        let body = json!({"template": template, "variant": "square", "code": "X"});
        expect_error(render(&app, body).await, 404, "not_found").await;
    }
    let toggle = app
        .request(reqwest::Method::POST, "/api/toggle-telegram-template")
        .json(&json!({"id": id, "enabled": false}))
        .send()
        .await
        .unwrap();
    expect_error(toggle, 404, "not_found").await;
    let deleted = json(
        app.request(reqwest::Method::POST, "/api/templates/bulk-delete")
            .json(&json!({"ids": [id]}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(deleted["deleted"], 0);
    app.use_tenant(None);
    let still = json(
        app.request(reqwest::Method::GET, &format!("/api/templates/{id}"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(still["telegramEnabled"], true);
}

async fn storage_failure_leaves_no_template(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login_admin().await;
    // Make every write under tenants/ fail: a file where the folder must go.
    let promostack::storage::StorageConfig::Local { root } = &app.config.storage else {
        unreachable!()
    };
    std::fs::create_dir_all(root).unwrap();
    std::fs::write(root.join("tenants"), b"in the way").unwrap();
    let (square, _) = backgrounds();
    let response = upload(&app, "Doomed", Some(square), None).await;
    assert!(
        response.status().is_server_error() || response.status() == 409,
        "{}",
        response.status()
    );
    let list = json(
        app.request(reqwest::Method::GET, "/api/templates")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(
        list["templates"].as_array().unwrap().is_empty(),
        "no row without its objects"
    );
    // Storage back: the same upload works.
    std::fs::remove_file(root.join("tenants")).unwrap();
    json(upload(&app, "Doomed", Some(square), None).await, 201).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_lifecycle_on_s3_storage() {
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.storage = promostack_testkit::s3_storage_config()
    })
    .await;
    app.login_admin().await;
    lifecycle_on(&app).await;
}

async fn uploaded_fonts(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login_admin().await;
    app.use_coupon_provider("any").await;
    let (square, _) = backgrounds();
    let created = json(upload(&app, "Brand font", Some(square), None).await, 201).await;
    let id = created["id"].as_str().unwrap();
    let assets = |bytes: &'static [u8]| {
        let form = Form::new().part("font", part(bytes, "Brand.otf"));
        app.request(
            reqwest::Method::POST,
            &format!("/api/templates/{id}/assets"),
        )
        .multipart(form)
        .send()
    };
    expect_error(
        assets(b"not a font at all").await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let font: &'static [u8] = include_bytes!("../../render/fonts/Inter-ExtraBold.otf");
    let with_font = json(assets(font).await.unwrap(), 200).await;
    assert_eq!(with_font["spec"]["style"]["font"], "font.ttf");
    let rendered = render(
        &app,
        json!({"template": id, "variant": "square", "code": "BRAND", "format": "jpeg"}),
    )
    .await;
    assert_eq!(rendered.status(), 200);
    // The font survives a spec edit and travels in the export.
    let edited = json(
        app.request(reqwest::Method::PUT, &format!("/api/templates/{id}"))
            .json(&with_font["spec"])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(edited["spec"]["style"]["font"], "font.ttf");
    let zip = app
        .request(reqwest::Method::GET, &format!("/api/templates/{id}/export"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
    assert!(
        archive
            .file_names()
            .any(|n| n.is_ok_and(|n| n == "font.ttf"))
    );
}
