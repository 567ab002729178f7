//! The route table's requirements (`auth`, `db`, role) enforced before any handler runs, plus
//! host-aware access and the CSRF origin check.
use crate::ids::TenantId;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;

use super::error::ApiError;
use crate::auth::session::COOKIE_NAME;
use crate::auth::{Principal, Role};
use crate::state::{AppState, DbState};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; no credentials read.
    Public,
    /// A signed-in caller acting in one tenant with at least this role.
    Tenant(Role),
    /// A platform admin (admin password, or an email in `ADMIN_EMAILS`).
    PlatformAdmin,
}

#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub access: Access,
    pub db_required: bool,
}

/// One row of the route table.
pub struct Route {
    pub path: &'static str,
    pub method: Method,
    pub spec: RouteSpec,
    pub handler: MethodRouter<AppState>,
    /// Request body limit for this route when it differs from `MAX_BODY_BYTES` (uploads).
    pub body_limit: Option<usize>,
}

impl Route {
    pub fn new(
        method: Method,
        path: &'static str,
        access: Access,
        handler: MethodRouter<AppState>,
    ) -> Self {
        let db_required = access != Access::Public;
        Route {
            path,
            method,
            spec: RouteSpec {
                access,
                db_required,
            },
            handler,
            body_limit: None,
        }
    }

    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = Some(bytes);
        self
    }

    /// A public route that still reads or writes records.
    pub fn with_db(mut self) -> Self {
        self.spec.db_required = true;
        self
    }
}

/// The caller and tenant a tenant-scoped handler acts for.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    pub principal: Principal,
    pub tenant_id: TenantId,
    pub role: Role,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestCtx {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<RequestCtx>()
            .cloned()
            .ok_or(ApiError::Unauthorized("unauthenticated"))
    }
}

/// The caller of a platform-admin route.
#[derive(Debug, Clone)]
pub struct AdminCtx(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for AdminCtx {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<AdminCtx>()
            .cloned()
            .ok_or(ApiError::Unauthorized("unauthenticated"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    Admin,
    Dash,
    Any,
}

pub fn host_kind(state: &AppState, headers: &HeaderMap) -> HostKind {
    let config = &state.ctx.config;
    let host = request_host(headers).map(|h| h.split(':').next().unwrap_or(h).to_lowercase());
    match (host, &config.admin_host, &config.dash_host) {
        (Some(host), Some(admin), _) if host == *admin => HostKind::Admin,
        (Some(host), _, Some(dash)) if host == *dash => HostKind::Dash,
        // With only one of the two set, every other host plays the other part.
        (_, Some(_), None) => HostKind::Dash,
        (_, None, Some(_)) => HostKind::Admin,
        _ => HostKind::Any,
    }
}

fn request_host(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|h| h.to_str().ok())
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Reject cross-site unsafe requests: an `Origin` (or, without it, `Referer`) that names another
/// host than the one addressed. Cookie-authenticated requests must carry one of the two.
pub async fn csrf(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let has_cookie_credentials =
        cookie(headers, COOKIE_NAME).is_some() || cookie(headers, "__session").is_some();
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok())
        .filter(|v| *v != "null");
    match (source, request_host(headers)) {
        (Some(source), Some(host)) => {
            let source_host = source
                .split_once("://")
                .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
                .unwrap_or("");
            if !source_host.eq_ignore_ascii_case(host) {
                return ApiError::Forbidden(
                    "cross-site request refused (Origin does not match Host)".into(),
                )
                .into_response();
            }
        }
        (None, _) if has_cookie_credentials => {
            return ApiError::Forbidden("cross-site request refused (no Origin or Referer)".into())
                .into_response();
        }
        _ => {}
    }
    next.run(req).await
}

/// Enforce one route's [`RouteSpec`].
pub async fn guard(
    State((state, spec)): State<(AppState, RouteSpec)>,
    mut req: Request,
    next: Next,
) -> Response {
    match authorize(&state, spec, &mut req).await {
        Ok(()) => next.run(req).await,
        Err(err) => err.into_response(),
    }
}

async fn authorize(state: &AppState, spec: RouteSpec, req: &mut Request) -> Result<(), ApiError> {
    let host = host_kind(state, req.headers());
    if spec.access == Access::PlatformAdmin && host == HostKind::Dash {
        return Err(ApiError::NotFound("route"));
    }
    if spec.db_required {
        match state.readiness.get() {
            DbState::Up => {}
            DbState::Starting => {
                return Err(ApiError::Unavailable(
                    "starting up; try again in a moment".into(),
                ));
            }
            DbState::Down => {
                return Err(ApiError::Unavailable(
                    "the database is unavailable; try again shortly".into(),
                ));
            }
        }
    }
    if spec.access == Access::Public {
        return Ok(());
    }
    let principal = authenticate(state, req.headers()).await?;
    if host == HostKind::Admin && !principal.is_platform_admin() {
        return Err(ApiError::Forbidden(
            "this console is for platform admins".into(),
        ));
    }
    match spec.access {
        Access::Public => Ok(()),
        Access::PlatformAdmin => {
            if !principal.is_platform_admin() {
                return Err(ApiError::Forbidden("platform admins only".into()));
            }
            req.extensions_mut().insert(AdminCtx(principal));
            Ok(())
        }
        Access::Tenant(min_role) => {
            let requested = req
                .headers()
                .get("x-tenant-id")
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned);
            let (tenant_id, role) = resolve_tenant(state, &principal, requested).await?;
            if role < min_role {
                return Err(ApiError::Forbidden(format!(
                    "needs the {} role",
                    min_role.as_str()
                )));
            }
            req.extensions_mut().insert(RequestCtx {
                principal,
                tenant_id,
                role,
            });
            Ok(())
        }
    }
}

/// Read the caller from the session cookie, else a Clerk JWT (Bearer header or `__session`).
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let keys = state
        .keys
        .get()
        .ok_or_else(|| ApiError::Unavailable("starting up".into()))?;
    if let Some(value) = cookie(headers, COOKIE_NAME) {
        return match keys.session.verify(value, state.clock.now()) {
            // Signed and unexpired, and not ended by a logout (the server-side row).
            Some(session)
                if session.subject == "admin"
                    && state.login_sessions.is_live(&session.session_id).await? =>
            {
                Ok(Principal::PasswordAdmin)
            }
            _ => Err(ApiError::Unauthorized("session_invalid")),
        };
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let token = bearer.or_else(|| cookie(headers, "__session"));
    let Some(token) = token else {
        return Err(ApiError::Unauthorized("unauthenticated"));
    };
    if !state.clerk.enabled() {
        return Err(ApiError::Unauthorized("token_invalid"));
    }
    match state.clerk.verify(token).await {
        Ok(identity) => {
            let platform_admin = state.ctx.config.admin_emails.contains(&identity.email);
            Ok(Principal::User {
                email: identity.email,
                platform_admin,
            })
        }
        Err(crate::auth::clerk::JwtError::KeysUnavailable) => Err(ApiError::Unavailable(
            "identity provider keys unavailable".into(),
        )),
        Err(err) => {
            tracing::info!(reason = %err, "rejected bearer token");
            Err(ApiError::Unauthorized("token_invalid"))
        }
    }
}

/// Pick the tenant a request acts in and the caller's role there.
async fn resolve_tenant(
    state: &AppState,
    principal: &Principal,
    requested: Option<String>,
) -> Result<(TenantId, Role), ApiError> {
    // A requested id that is not even an id names no workspace the caller may act in.
    let requested = match requested.as_deref().map(TenantId::parse) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) if principal.is_platform_admin() => {
            return Err(ApiError::NotFound("workspace"));
        }
        Some(Err(_)) => {
            return Err(ApiError::Forbidden(
                "you are not a member of this workspace".into(),
            ));
        }
    };
    if principal.is_platform_admin() {
        let tenant = match requested {
            Some(id) => state
                .tenants
                .get(&id)
                .await
                .map_err(|_| ApiError::NotFound("workspace"))?,
            None => state
                .tenants
                .default_tenant()
                .await?
                .ok_or_else(|| ApiError::Unavailable("no default workspace yet".into()))?,
        };
        return Ok((tenant.id, Role::Owner));
    }
    let email = principal.email().unwrap_or_default();
    let memberships = state.tenants.memberships(email).await?;
    let chosen = match requested {
        Some(id) => memberships.into_iter().find(|m| m.tenant_id == id),
        None => memberships.into_iter().next(),
    };
    chosen
        .map(|m| (m.tenant_id, m.role))
        .ok_or_else(|| ApiError::Forbidden("you are not a member of this workspace".into()))
}
