//! Object storage: the same round-trip story on the local directory backend and on a real S3 API
//! server on loopback. `scripts/test` starts that server and exports `TEST_S3_ENDPOINT`,
//! `TEST_S3_BUCKET`, `TEST_S3_ACCESS_KEY`, `TEST_S3_SECRET_KEY` and `TEST_S3_REGION`; without
//! them the S3 tests fail (a skipped suite would hide a broken backend).

use std::time::{Duration, Instant};

use bytes::Bytes;
use promostack::storage::{MAX_KEY_BYTES, S3Config, Storage, StorageConfig, StorageError};

async fn open_test_s3() -> Storage {
    let storage = Storage::open(&StorageConfig::S3(promostack_testkit::s3_test_config()))
        .await
        .expect("open the test S3 bucket");
    assert_eq!(storage.kind(), "s3");
    storage
}

/// A unique folder per test run, so runs and tests sharing one bucket never see each other.
fn unique_folder(name: &str) -> String {
    format!("{name}-{}", uuid::Uuid::now_v7())
}

/// Deterministic bytes that do not compress and cover every byte value.
fn pseudo_random_bytes(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        // xorshift64
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Status code of a plain, unsigned HTTP/1.1 GET (the test server speaks http on loopback).
async fn anonymous_get_status(endpoint: &str, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let host = endpoint
        .strip_prefix("http://")
        .expect("the test S3 endpoint is http://")
        .trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let encoded: String = path
        .bytes()
        .map(|b| match b {
            b'/' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            b if b.is_ascii_alphanumeric() => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect();
    let request = format!("GET {encoded} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let head = String::from_utf8_lossy(&response[..response.len().min(64)]).to_string();
    head.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {head:?}"))
}

fn assert_invalid_key<T: std::fmt::Debug>(result: Result<T, StorageError>, what: &str) {
    match result {
        Err(StorageError::InvalidKey(message)) => assert!(!message.is_empty()),
        other => panic!("{what}: expected InvalidKey, got {other:?}"),
    }
}

/// put / get / overwrite / list / delete / missing / invalid keys / binary / large, in one story.
async fn round_trip_story(storage: &Storage) {
    storage.check().await.expect("storage is ready");
    let base = unique_folder("story");
    let key = |rest: &str| format!("{base}/{rest}");

    // Missing objects: get says None, delete is a no-op.
    assert_eq!(storage.get(&key("absent.png")).await.unwrap(), None);
    storage.delete(&key("absent.png")).await.unwrap();

    // Put, get, overwrite.
    let text_key = key("hello.txt");
    storage
        .put(&text_key, Bytes::from_static(b"hello"), "text/plain")
        .await
        .unwrap();
    assert_eq!(
        storage.get(&text_key).await.unwrap().as_deref(),
        Some(&b"hello"[..])
    );
    storage
        .put(
            &text_key,
            Bytes::from_static(b"hello, overwritten"),
            "text/plain",
        )
        .await
        .unwrap();
    assert_eq!(
        storage.get(&text_key).await.unwrap().as_deref(),
        Some(&b"hello, overwritten"[..])
    );

    // Binary content: every byte value, NULs and a PNG signature survive unchanged.
    let mut binary = b"\x89PNG\r\n\x1a\n".to_vec();
    binary.extend((0..=255u8).cycle().take(4096));
    binary.extend([0, 0, 0, 0xff, 0xfe]);
    let binary_key = key("images/logo.png");
    storage
        .put(&binary_key, Bytes::from(binary.clone()), "image/png")
        .await
        .unwrap();
    assert_eq!(storage.get(&binary_key).await.unwrap().unwrap(), binary);

    // Empty object.
    let empty_key = key("images/empty.bin");
    storage
        .put(&empty_key, Bytes::new(), "application/octet-stream")
        .await
        .unwrap();
    assert_eq!(storage.get(&empty_key).await.unwrap().unwrap().len(), 0);

    // A large object of a few MB.
    let large = pseudo_random_bytes(6 * 1024 * 1024 + 123, 0x5eed);
    let large_key = key("renders/large.webp");
    storage
        .put(&large_key, Bytes::from(large.clone()), "image/webp")
        .await
        .unwrap();
    let large_back = storage.get(&large_key).await.unwrap().unwrap();
    assert_eq!(large_back.len(), large.len());
    assert!(large_back == large, "large object differs after round trip");

    // Unusual but allowed characters round-trip, in get and in list.
    let unicode_key = key("ü é/file (1)+x=y@z,w.png");
    storage
        .put(&unicode_key, Bytes::from_static(b"unicode"), "image/png")
        .await
        .unwrap();
    assert_eq!(
        storage.get(&unicode_key).await.unwrap().as_deref(),
        Some(&b"unicode"[..])
    );

    // A sibling folder sharing a string prefix with `images`: listing is by folder.
    let sibling_key = key("images-old/logo.png");
    storage
        .put(&sibling_key, Bytes::from_static(b"old"), "image/png")
        .await
        .unwrap();

    let mut everything = vec![
        text_key.clone(),
        binary_key.clone(),
        empty_key.clone(),
        large_key.clone(),
        unicode_key.clone(),
        sibling_key.clone(),
    ];
    everything.sort();
    assert_eq!(storage.list(&base).await.unwrap(), everything);
    assert_eq!(storage.list(&format!("{base}/")).await.unwrap(), everything);
    let mut images = vec![empty_key.clone(), binary_key.clone()];
    images.sort();
    assert_eq!(storage.list(&key("images")).await.unwrap(), images);
    assert_eq!(storage.list(&key("images/")).await.unwrap(), images);
    assert!(storage.list(&key("nothing-here")).await.unwrap().is_empty());
    let all = storage.list("").await.unwrap();
    assert!(
        everything.iter().all(|k| all.contains(k)),
        "list(\"\") misses keys"
    );

    // Delete: gone from get and list; deleting again is fine.
    storage.delete(&text_key).await.unwrap();
    assert_eq!(storage.get(&text_key).await.unwrap(), None);
    storage.delete(&text_key).await.unwrap();
    everything.retain(|k| k != &text_key);
    assert_eq!(storage.list(&base).await.unwrap(), everything);

    // Invalid keys are refused before reaching the backend, for every operation.
    let too_long = format!("{base}/{}", "k".repeat(MAX_KEY_BYTES));
    for bad in [
        "",
        "/absolute.png",
        "../escape.png",
        &format!("{base}/../escape.png"),
        &format!("{base}/a\\b.png"),
        &format!("{base}/ctrl\u{1}.png"),
        &format!("{base}/new\nline.png"),
        &format!("{base}//double.png"),
        &format!("{base}/dir/"),
        too_long.as_str(),
    ] {
        assert_invalid_key(
            storage
                .put(bad, Bytes::from_static(b"x"), "text/plain")
                .await,
            &format!("put {bad:?}"),
        );
        assert_invalid_key(storage.get(bad).await, &format!("get {bad:?}"));
        assert_invalid_key(storage.delete(bad).await, &format!("delete {bad:?}"));
    }
    assert_invalid_key(storage.list("/").await, "list \"/\"");
    assert_invalid_key(storage.list("../").await, "list \"../\"");
    assert_eq!(storage.list(&base).await.unwrap(), everything);

    // Clean up: the folder is empty afterwards.
    for k in &everything {
        storage.delete(k).await.unwrap();
    }
    assert!(storage.list(&base).await.unwrap().is_empty());
}

#[tokio::test]
async fn local_storage_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("objects");
    let storage = Storage::open(&StorageConfig::Local { root: root.clone() })
        .await
        .unwrap();
    assert_eq!(storage.kind(), "local");
    round_trip_story(&storage).await;
    // Nothing but the (now empty) root is left: no staging files, no empty folders.
    let leftovers: Vec<_> = std::fs::read_dir(&root).unwrap().collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

#[tokio::test]
async fn s3_storage_round_trip() {
    let storage = open_test_s3().await;
    round_trip_story(&storage).await;
}

#[tokio::test]
async fn local_open_creates_the_directory_and_check_notices_it_missing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("a/b/objects");
    let storage = Storage::open(&StorageConfig::Local { root: root.clone() })
        .await
        .unwrap();
    assert!(root.is_dir());
    storage.check().await.unwrap();
    assert_eq!(storage.public_url("x.png"), None);

    std::fs::remove_dir_all(&root).unwrap();
    match storage.check().await {
        Err(StorageError::Unavailable(message)) => assert!(message.contains("objects")),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn local_objects_stay_inside_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("objects");
    let storage = Storage::open(&StorageConfig::Local { root: root.clone() })
        .await
        .unwrap();
    storage
        .put("t/1/logo.png", Bytes::from_static(b"png"), "image/png")
        .await
        .unwrap();
    assert_eq!(std::fs::read(root.join("t/1/logo.png")).unwrap(), b"png");
    assert_invalid_key(
        storage
            .put("t/../../outside.png", Bytes::from_static(b"x"), "image/png")
            .await,
        "traversal",
    );
    let outside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(outside, vec![std::ffi::OsString::from("objects")]);
}

#[tokio::test]
async fn s3_objects_are_private() {
    let storage = open_test_s3().await;
    let cfg = promostack_testkit::s3_test_config();
    let key = format!("{}/secret.png", unique_folder("private"));
    storage
        .put(&key, Bytes::from_static(b"private bytes"), "image/png")
        .await
        .unwrap();
    // An unsigned request, as a browser would make it, must not get the object.
    let endpoint = cfg.endpoint.unwrap();
    let status = anonymous_get_status(&endpoint, &format!("/{}/{key}", cfg.bucket)).await;
    assert!(
        status == 403 || status == 401,
        "anonymous GET of {key} gave HTTP {status}"
    );
    storage.delete(&key).await.unwrap();
}

#[tokio::test]
async fn s3_put_stores_the_content_type() {
    use object_store::{Attribute, ObjectStoreExt};

    let storage = open_test_s3().await;
    let cfg = promostack_testkit::s3_test_config();
    let key = format!("{}/photo.jpg", unique_folder("content-type"));
    storage
        .put(&key, Bytes::from_static(b"\xff\xd8\xff"), "image/jpeg")
        .await
        .unwrap();
    // Read the object's headers with an independent client.
    let reader = object_store::aws::AmazonS3Builder::new()
        .with_access_key_id(cfg.access_key)
        .with_secret_access_key(cfg.secret_key)
        .with_region(cfg.region)
        .with_bucket_name(cfg.bucket)
        .with_endpoint(cfg.endpoint.unwrap())
        .with_allow_http(true)
        .build()
        .unwrap();
    let got = reader
        .get(&object_store::path::Path::parse(&key).unwrap())
        .await
        .unwrap();
    assert_eq!(
        got.attributes
            .get(&Attribute::ContentType)
            .map(|v| v.as_ref()),
        Some("image/jpeg")
    );
    storage.delete(&key).await.unwrap();
}

#[tokio::test]
async fn s3_check_fails_for_a_missing_bucket() {
    let mut cfg = promostack_testkit::s3_test_config();
    cfg.bucket = format!("missing-{}", uuid::Uuid::now_v7());
    let storage = Storage::open(&StorageConfig::S3(cfg)).await.unwrap();
    match storage.check().await {
        Err(StorageError::Unavailable(_) | StorageError::Denied(_)) => {}
        other => panic!("expected the probe to fail, got {other:?}"),
    }
}

#[tokio::test]
async fn s3_check_gives_up_quickly_when_the_server_is_down() {
    // A loopback port nobody listens on: connection refused, retried, then bounded by the probe.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = S3Config {
        access_key: "key".into(),
        secret_key: "secret".into(),
        region: "us-east-1".into(),
        bucket: "bucket".into(),
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        cdn_url: None,
    };
    let storage = Storage::open(&StorageConfig::S3(cfg)).await.unwrap();
    let started = Instant::now();
    let result = storage.check().await;
    assert!(
        matches!(result, Err(StorageError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "probe took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn s3_config_checks_and_defaults() {
    let cfg = S3Config {
        access_key: "AKIAEXAMPLEACCESS".into(),
        secret_key: "very-secret-value".into(),
        region: "nyc3".into(),
        bucket: "promo".into(),
        endpoint: None,
        cdn_url: Some("https://cdn.example.com/".into()),
    };
    // Debug never shows the keys.
    let debug = format!("{cfg:?} {:?}", StorageConfig::S3(cfg.clone()));
    assert!(!debug.contains("AKIAEXAMPLEACCESS"), "{debug}");
    assert!(!debug.contains("very-secret-value"), "{debug}");
    assert!(debug.contains("promo"), "{debug}");

    // DigitalOcean Spaces is the default endpoint.
    assert_eq!(
        cfg.effective_endpoint(),
        "https://nyc3.digitaloceanspaces.com"
    );
    let storage = Storage::open(&StorageConfig::S3(cfg.clone()))
        .await
        .unwrap();
    let debug = format!("{storage:?}");
    assert!(!debug.contains("very-secret-value"), "{debug}");

    // CDN URLs: trailing slash handled, segments percent-encoded, invalid keys give None.
    assert_eq!(
        storage.public_url("t/1/logo.png").as_deref(),
        Some("https://cdn.example.com/t/1/logo.png")
    );
    assert_eq!(
        storage.public_url("t/1/my logo+ü.png").as_deref(),
        Some("https://cdn.example.com/t/1/my%20logo%2B%C3%BC.png")
    );
    assert_eq!(storage.public_url("../x.png"), None);
    let no_cdn = Storage::open(&StorageConfig::S3(S3Config {
        cdn_url: None,
        ..cfg.clone()
    }))
    .await
    .unwrap();
    assert_eq!(no_cdn.public_url("t/1/logo.png"), None);

    // Unusable configurations are refused at open.
    for broken in [
        S3Config {
            bucket: " ".into(),
            ..cfg.clone()
        },
        S3Config {
            secret_key: String::new(),
            ..cfg.clone()
        },
        S3Config {
            endpoint: Some("ftp://example.com".into()),
            ..cfg.clone()
        },
    ] {
        match Storage::open(&StorageConfig::S3(broken.clone())).await {
            Err(StorageError::Config(message)) => {
                assert!(!message.contains("very-secret-value"), "{message}")
            }
            other => panic!("{broken:?}: expected Config error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn local_key_cannot_be_both_an_object_and_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(&StorageConfig::Local {
        root: dir.path().join("objects"),
    })
    .await
    .unwrap();
    storage
        .put("a/b/c.png", Bytes::from_static(b"c"), "image/png")
        .await
        .unwrap();
    for key in ["a/b", "a/b/c.png/d.png"] {
        match storage
            .put(key, Bytes::from_static(b"x"), "image/png")
            .await
        {
            Err(StorageError::Conflict(message)) => assert!(message.contains(key), "{message}"),
            other => panic!("put {key}: expected Conflict, got {other:?}"),
        }
    }
    // The folder is not an object: get finds nothing, delete has nothing to do.
    assert_eq!(storage.get("a/b").await.unwrap(), None);
    storage.delete("a/b").await.unwrap();
    assert_eq!(
        storage.list("").await.unwrap(),
        vec!["a/b/c.png".to_string()]
    );
    assert_eq!(
        storage.get("a/b/c.png").await.unwrap().as_deref(),
        Some(&b"c"[..])
    );
}
