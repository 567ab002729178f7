//! Which social links count as an entry, and the form two links are compared in.
//!
//! The allow-table and the normalisation are documented in docs/campaigns.md; keep the two in
//! step.
use reqwest::Url;

/// Longest accepted entry URL.
pub const MAX_URL_CHARS: usize = 2048;

/// A platform a campaign can target: its id in the API and the hosts its posts live on.
pub struct Platform {
    pub id: &'static str,
    pub label: &'static str,
    /// Registrable domains; any subdomain of these (www., m., vm. …) is accepted too.
    pub domains: &'static [&'static str],
}

pub const PLATFORMS: &[Platform] = &[
    Platform {
        id: "instagram",
        label: "Instagram",
        domains: &["instagram.com"],
    },
    Platform {
        id: "tiktok",
        label: "TikTok",
        domains: &["tiktok.com"],
    },
    Platform {
        id: "x",
        label: "X",
        domains: &["x.com", "twitter.com"],
    },
    Platform {
        id: "facebook",
        label: "Facebook",
        domains: &["facebook.com", "fb.watch"],
    },
    Platform {
        id: "telegram",
        label: "Telegram",
        domains: &["t.me"],
    },
    Platform {
        id: "youtube",
        label: "YouTube",
        domains: &["youtube.com", "youtu.be"],
    },
];

pub fn platform(id: &str) -> Option<&'static Platform> {
    PLATFORMS.iter().find(|p| p.id == id)
}

/// Query parameters that only track where a click came from; dropped before comparing links.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "igsh",
    "igshid",
    "si",
    "feature",
    "ref",
    "ref_src",
    "ref_url",
    "mibextid",
    "share_id",
    "sender_device",
    "is_from_webapp",
    "_r",
    "_t",
];

/// On X/Twitter `s` and `t` are share-sheet trackers (elsewhere `t` can be a video timestamp).
const X_TRACKING_PARAMS: &[&str] = &["s", "t"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedLink {
    /// The link as submitted, trimmed.
    pub url: String,
    /// The comparison form (de-duplication key).
    pub normalized: String,
    pub platform: &'static str,
}

/// Why a link was refused, in words the participant can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("paste the link to your post")]
    Empty,
    #[error("the link is longer than {MAX_URL_CHARS} characters")]
    TooLong,
    #[error("that is not a valid link")]
    Invalid,
    #[error("the link must start with https://")]
    NotHttps,
    #[error("links with a user name or password in them are not accepted")]
    Credentials,
    #[error("the link must point to your post on {0}")]
    OffPlatform(String),
    #[error("link to the post itself, not the site's home page")]
    NoPath,
}

/// Accept `raw` when it is an https link on one of `allowed` platforms; returns the platform
/// it belongs to and its normalised form.
pub fn check(raw: &str, allowed: &[String]) -> Result<CheckedLink, LinkError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(LinkError::Empty);
    }
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(LinkError::TooLong);
    }
    let url = Url::parse(raw).map_err(|_| LinkError::Invalid)?;
    if url.scheme() != "https" {
        return Err(LinkError::NotHttps);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(LinkError::Credentials);
    }
    let allowed_labels = || {
        allowed
            .iter()
            .filter_map(|id| platform(id))
            .map(|p| p.label)
            .collect::<Vec<_>>()
            .join(", ")
    };
    // `Url` lowercases domain names and punycodes them; IP addresses have no domain.
    let host = url
        .domain()
        .ok_or_else(|| LinkError::OffPlatform(allowed_labels()))?
        .trim_end_matches('.')
        .to_owned();
    let found = allowed.iter().filter_map(|id| platform(id)).find(|p| {
        p.domains
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
    });
    let Some(found) = found else {
        return Err(LinkError::OffPlatform(allowed_labels()));
    };
    let path = url.path().trim_end_matches('/');
    if path.is_empty() {
        return Err(LinkError::NoPath);
    }
    Ok(CheckedLink {
        url: raw.to_owned(),
        normalized: normalize(&url, &host, found.id),
        platform: found.id,
    })
}

/// `https://{host without www./m.}{path without trailing /}?{non-tracking params, sorted}`;
/// no fragment, no port (only 443 parses as default for https anyway).
fn normalize(url: &Url, host: &str, platform: &str) -> String {
    let host = host
        .strip_prefix("www.")
        .or_else(|| host.strip_prefix("m."))
        .or_else(|| host.strip_prefix("mobile."))
        .unwrap_or(host);
    let path = url.path().trim_end_matches('/');
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !(k.starts_with("utm_")
                || TRACKING_PARAMS.contains(&k.as_str())
                || (platform == "x" && X_TRACKING_PARAMS.contains(&k.as_str())))
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    params.sort();
    let mut out = format!("https://{host}{path}");
    if !params.is_empty() {
        let query: String = reqwest::Url::parse_with_params("https://q.invalid/", &params)
            .ok()
            .and_then(|u| u.query().map(str::to_owned))
            .unwrap_or_default();
        out.push('?');
        out.push_str(&query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<String> {
        PLATFORMS.iter().map(|p| p.id.to_owned()).collect()
    }

    #[test]
    fn normalisation_merges_tracking_and_case_variants() {
        let a = check(
            "https://www.Instagram.com/p/Cx1/?igsh=abc&utm_source=ig",
            &all(),
        )
        .unwrap();
        let b = check("https://instagram.com/p/Cx1", &all()).unwrap();
        assert_eq!(a.normalized, b.normalized);
        assert_eq!(a.normalized, "https://instagram.com/p/Cx1");
        assert_eq!(a.platform, "instagram");
        // Path case is kept: post ids are case-sensitive.
        assert_ne!(
            check("https://instagram.com/p/cx1", &all())
                .unwrap()
                .normalized,
            b.normalized
        );
        let yt = check("https://m.youtube.com/watch?v=abc&si=x&t=42#c", &all()).unwrap();
        assert_eq!(yt.normalized, "https://youtube.com/watch?t=42&v=abc");
        let x = check("https://twitter.com/u/status/1?s=20&t=zz", &all()).unwrap();
        assert_eq!(x.normalized, "https://twitter.com/u/status/1");
    }

    #[test]
    fn refusals() {
        let ig = vec!["instagram".to_owned()];
        assert_eq!(check(" ", &ig), Err(LinkError::Empty));
        assert_eq!(
            check("http://instagram.com/p/1", &ig),
            Err(LinkError::NotHttps)
        );
        assert_eq!(check("instagram.com/p/1", &ig), Err(LinkError::Invalid));
        assert_eq!(
            check("https://u:p@instagram.com/p/1", &ig),
            Err(LinkError::Credentials)
        );
        assert!(matches!(
            check("https://evilinstagram.com/p/1", &ig),
            Err(LinkError::OffPlatform(_))
        ));
        assert!(matches!(
            check("https://instagram.com.evil.test/p/1", &ig),
            Err(LinkError::OffPlatform(_))
        ));
        assert!(matches!(
            check("https://tiktok.com/@a/video/1", &ig),
            Err(LinkError::OffPlatform(_))
        ));
        assert!(matches!(
            check("https://1.2.3.4/p/1", &ig),
            Err(LinkError::OffPlatform(_))
        ));
        assert_eq!(
            check("https://www.instagram.com/", &ig),
            Err(LinkError::NoPath)
        );
        let long = format!("https://instagram.com/{}", "a".repeat(MAX_URL_CHARS));
        assert_eq!(check(&long, &ig), Err(LinkError::TooLong));
    }
}
