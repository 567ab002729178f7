//! Templates and rendering through the HTTP API, on both backends and on S3 storage.
use promostack_testkit::images::{demo_background, png_claiming};
use promostack_testkit::{
    Backend, TestApp, backend_tests, expect_error, json, spawn_app, spawn_app_with,
};
use serde_json::{Value, json};

backend_tests!(
    uploaded_fonts,
    template_lifecycle,
    bad_uploads_and_specs,
    templates_are_tenant_scoped,
    storage_failure_leaves_no_template
);

/// The demo "Summer Sale" backgrounds (1080×1080 and 1080×1350 PNGs).
fn backgrounds() -> (&'static [u8], &'static [u8]) {
    (demo_background("square"), demo_background("portrait"))
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
        app.create_template("Spring Deal", &[("square", square), ("portrait", portrait)])
            .await,
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
        app.create_template("Spring Deal", &[("square", square)])
            .await,
        409,
        "conflict",
    )
    .await;

    // Listing, lookup by slug, the stored image is the uploaded one.
    let list = json(app.list_templates().await, 200).await;
    assert_eq!(list["templates"].as_array().unwrap().len(), 1);
    let by_slug = json(app.get_template("spring-deal").await, 200).await;
    assert_eq!(by_slug["id"], id.as_str());
    let image = app.template_image(&id, "square").await;
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.bytes().await.unwrap().as_ref(), square);

    // Render: JPEG bytes, an ETag, the same ETag again (cache), 304 on If-None-Match.
    let body = json!({"template": id, "variant": "square", "code": "SPRING25", "format": "jpeg"});
    let first = app.render(body.clone()).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-type"], "image/jpeg");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let jpeg = first.bytes().await.unwrap();
    assert_eq!(&jpeg[..3], &[0xFF, 0xD8, 0xFF]);
    let decoded = image_size(&jpeg);
    assert_eq!(decoded, (1080, 1080));
    let again = app.render(body.clone()).await;
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(
        again.bytes().await.unwrap(),
        jpeg,
        "identical inputs, identical bytes"
    );
    let not_modified = app.render_if_none_match(body.clone(), &etag).await;
    assert_eq!(not_modified.status(), 304);
    let other_code = app.render(json!({"template": "spring-deal", "variant": "square", "code": "OTHER", "format": "jpeg"}),
    )
    .await;
    assert_ne!(other_code.headers()["etag"].to_str().unwrap(), etag);

    // Edit the spec: move the box, change colour; the version and the ETag change.
    let mut spec = created["spec"].clone();
    spec["variants"]["square"]["text"] = json!({"x": 100, "y": 100, "width": 600, "height": 150});
    spec["style"]["color"] = json!("#FF0000");
    let updated = json(app.update_template(&id, &spec).await, 200).await;
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["spec"]["variants"]["square"]["text"]["x"], 100);
    let after_edit = app.render(body.clone()).await;
    assert_ne!(
        after_edit.headers()["etag"].to_str().unwrap(),
        etag,
        "edits invalidate cached renders"
    );

    // Unknown fields in the spec are kept.
    spec["campaign"] = json!("spring-2026");
    let kept = json(app.update_template(&id, &spec).await, 200).await;
    assert_eq!(kept["spec"]["campaign"], "spring-2026");

    // Telegram visibility through the original's path.
    let hidden = json(app.toggle_telegram_template(&id, false).await, 200).await;
    assert_eq!(hidden["telegramEnabled"], false);
    assert_eq!(hidden["spec"]["telegramEnabled"], false);

    // Editor preview with an unsaved box: an image, and the saved template is unchanged.
    let mut draft = kept["spec"].clone();
    draft["variants"]["square"]["text"] = json!({"x": 0, "y": 0, "width": 1080, "height": 300});
    let preview = app
        .preview_template(
            &id,
            json!({"spec": draft, "variant": "square", "code": "DRAFT", "format": "jpeg"}),
        )
        .await;
    assert_eq!(preview.status(), 200);
    let still = json(app.get_template(&id).await, 200).await;
    assert_eq!(still["spec"]["variants"]["square"]["text"]["x"], 100);

    // Export, then import as a copy under another slug.
    let zip = app.export_template(&id).await;
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let zip = zip.bytes().await.unwrap();
    expect_error(app.import_template(zip.to_vec()).await, 409, "conflict").await;
    let renamed = rewrite_slug(&zip, "spring-copy");
    let copy = json(app.import_template(renamed).await, 201).await;
    assert_eq!(copy["slug"], "spring-copy");
    assert_eq!(copy["spec"]["campaign"], "spring-2026");
    assert_eq!(copy["spec"]["variants"]["square"]["text"]["x"], 100);

    // Bulk delete; deleted templates no longer render.
    let deleted = json(
        app.bulk_delete_templates(&[&id, copy["id"].as_str().unwrap(), "not-a-template"])
            .await,
        200,
    )
    .await;
    assert_eq!(deleted["deleted"], 2);
    expect_error(app.render(body).await, 404, "not_found").await;
    let list = json(app.list_templates().await, 200).await;
    assert!(list["templates"].as_array().unwrap().is_empty());
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

async fn bad_uploads_and_specs(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login_admin().await;
    app.use_coupon_provider("any").await;
    let (square, _) = backgrounds();
    expect_error(
        app.create_template("Text", &[("square", b"this is not an image")])
            .await,
        415,
        "unsupported_media_type",
    )
    .await;
    expect_error(
        app.create_template("Truncated", &[("square", &square[..square.len() / 3])])
            .await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        app.create_template("Bomb", &[("square", &png_claiming(100_000, 100_000))])
            .await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        app.create_template("Nothing", &[]).await,
        422,
        "validation_failed",
    )
    .await;
    expect_error(
        app.create_template("", &[("square", square)]).await,
        422,
        "validation_failed",
    )
    .await;
    let list = json(app.list_templates().await, 200).await;
    assert!(
        list["templates"].as_array().unwrap().is_empty(),
        "no half template after rejected uploads"
    );

    let created = json(
        app.create_template("Good", &[("square", square)]).await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap();
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
        expect_error(
            app.update_template(id, &spec).await,
            422,
            "validation_failed",
        )
        .await;
    }
    let mut with_unknown_variant = created["spec"].clone();
    with_unknown_variant["variants"]["banner"] = with_unknown_variant["variants"]["square"].clone();
    expect_error(
        app.update_template(id, &with_unknown_variant).await,
        422,
        "validation_failed",
    )
    .await;
    let unchanged = json(app.get_template(id).await, 200).await;
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
        expect_error(app.render(body).await, status, code).await;
    }
    // Emoji are not coupon codes: /api/render refuses them before rendering.
    expect_error(
        app.render(
            json!({"template": id, "variant": "square", "code": "GO🚀你好", "format": "jpeg"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    // Glyphs the font lacks still render with a fallback, never a crash (the editor's preview
    // draws any sample text).
    let spec = json(app.get_template(id).await, 200).await["spec"].clone();
    let emoji = app
        .preview_template(
            id,
            json!({"spec": spec, "variant": "square", "code": "GO🚀你好", "format": "jpeg"}),
        )
        .await;
    assert_eq!(emoji.status(), 200);
    // A custom logo must be an image.
    let bad_logo = app
        .render(
            json!({"template": id, "variant": "square", "code": "A", "logo": "bm90IGFuIGltYWdl"}),
        )
        .await;
    expect_error(bad_logo, 415, "unsupported_media_type").await;
    // Archives: not a zip, no meta.json.
    expect_error(
        app.import_template(b"PK not really".to_vec()).await,
        422,
        "validation_failed",
    )
    .await;
}

async fn templates_are_tenant_scoped(backend: Backend) {
    let app = spawn_app(backend).await;
    app.login_admin().await;
    let (square, _) = backgrounds();
    let a = json(
        app.create_template("Tenant A deal", &[("square", square)])
            .await,
        201,
    )
    .await;
    let b = app.create_tenant("B", "tenant-b").await;
    app.use_tenant(Some(&b));
    app.use_coupon_provider("any").await;
    let id = a["id"].as_str().unwrap();
    let list = json(app.list_templates().await, 200).await;
    assert!(list["templates"].as_array().unwrap().is_empty());
    for response in [
        app.get_template(id).await,
        app.template_image(id, "square").await,
        app.export_template(id).await,
    ] {
        expect_error(response, 404, "not_found").await;
    }
    for template in [id, "tenant-a-deal"] {
        let body = json!({"template": template, "variant": "square", "code": "X"});
        expect_error(app.render(body).await, 404, "not_found").await;
    }
    expect_error(
        app.toggle_telegram_template(id, false).await,
        404,
        "not_found",
    )
    .await;
    let deleted = json(app.bulk_delete_templates(&[id]).await, 200).await;
    assert_eq!(deleted["deleted"], 0);
    app.use_tenant(None);
    let still = json(app.get_template(id).await, 200).await;
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
    let response = app.create_template("Doomed", &[("square", square)]).await;
    assert!(
        response.status().is_server_error() || response.status() == 409,
        "{}",
        response.status()
    );
    let list = json(app.list_templates().await, 200).await;
    assert!(
        list["templates"].as_array().unwrap().is_empty(),
        "no row without its objects"
    );
    // Storage back: the same upload works.
    std::fs::remove_file(root.join("tenants")).unwrap();
    json(
        app.create_template("Doomed", &[("square", square)]).await,
        201,
    )
    .await;
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
    let created = json(
        app.create_template("Brand font", &[("square", square)])
            .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    expect_error(
        app.replace_template_assets(id, &[("font", b"not a font at all")])
            .await,
        422,
        "validation_failed",
    )
    .await;
    let font: &'static [u8] = include_bytes!("../../render/fonts/Inter-ExtraBold.otf");
    let with_font = json(
        app.replace_template_assets(id, &[("font", font)]).await,
        200,
    )
    .await;
    assert_eq!(with_font["spec"]["style"]["font"], "font.ttf");
    let rendered = app
        .render(json!({"template": id, "variant": "square", "code": "BRAND", "format": "jpeg"}))
        .await;
    assert_eq!(rendered.status(), 200);
    // The font survives a spec edit and travels in the export.
    let edited = json(app.update_template(id, &with_font["spec"]).await, 200).await;
    assert_eq!(edited["spec"]["style"]["font"], "font.ttf");
    let zip = app.export_template(id).await.bytes().await.unwrap();
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
    assert!(
        archive
            .file_names()
            .any(|n| n.is_ok_and(|n| n == "font.ttf"))
    );
}
