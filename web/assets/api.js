// The one fetch helper every page uses: JSON in/out, the selected tenant in X-Tenant-Id,
// errors thrown as ApiError with the server's message, 401 -> back to the login page.

const TENANT_KEY = 'promostack.tenantId';

export class ApiError extends Error {
  constructor(message, { status = 0, code = '', body = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

export function getTenantId() {
  try { return localStorage.getItem(TENANT_KEY) || ''; } catch { return ''; }
}

export function setTenantId(id) {
  try {
    if (id) localStorage.setItem(TENANT_KEY, id);
    else localStorage.removeItem(TENANT_KEY);
  } catch { /* storage disabled: the header is simply not sent */ }
}

/** Send the user to the login page, coming back to where they were afterwards. */
export function redirectToLogin() {
  const here = location.pathname + location.search + location.hash;
  const next = here && here !== '/' ? '?next=' + encodeURIComponent(here) : '';
  location.assign('/login' + next);
}

/**
 * api(path, {method, body, signal, redirectOn401})
 * - body: a plain object is sent as JSON; FormData/Blob are sent as they are.
 * - resolves to the parsed JSON (or null for 204 / empty bodies); with responseType: 'blob' to the
 *   response body as a Blob (images, zips) — errors are still read as {"error","code"} JSON.
 * - rejects with ApiError(message, {status, code, body}).
 */
export async function api(path, { method = 'GET', body, signal, headers = {}, redirectOn401 = true, responseType = 'json' } = {}) {
  const h = { Accept: 'application/json', ...headers };
  let payload = body;
  if (body !== undefined && body !== null && !(body instanceof FormData) && !(body instanceof Blob)) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const tenant = getTenantId();
  if (tenant && !('X-Tenant-Id' in h)) h['X-Tenant-Id'] = tenant;

  let res;
  try {
    res = await fetch(path, { method, body: payload, headers: h, credentials: 'same-origin', signal });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError('Cannot reach the server. Check your connection and try again.', { status: 0, code: 'network' });
  }

  if (res.ok && responseType === 'blob') return res.blob();

  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }

  if (res.ok) return data;

  if (res.status === 401 && redirectOn401) {
    redirectToLogin();
    // Keep callers from rendering an error while the browser navigates away.
    throw new ApiError('Your session has ended. Please sign in again.', { status: 401, code: (data && data.code) || 'unauthorized', body: data });
  }
  const message = (data && typeof data.error === 'string' && data.error)
    || defaultMessage(res.status);
  throw new ApiError(message, { status: res.status, code: (data && data.code) || '', body: data });
}

function defaultMessage(status) {
  if (status === 403) return 'You do not have permission to do that.';
  if (status === 404) return 'Not found.';
  if (status === 429) return 'Too many attempts. Please wait a moment and try again.';
  if (status === 503) return 'The service is temporarily unavailable. Please try again shortly.';
  if (status >= 500) return 'The server hit an error (' + status + '). Please try again.';
  return 'Request failed (' + status + ').';
}

export const get = (path, opts) => api(path, { ...opts, method: 'GET' });
export const post = (path, body, opts) => api(path, { ...opts, method: 'POST', body });
export const patch = (path, body, opts) => api(path, { ...opts, method: 'PATCH', body });
export const put = (path, body, opts) => api(path, { ...opts, method: 'PUT', body });
export const del = (path, opts) => api(path, { ...opts, method: 'DELETE' });

let codeRules = null;

/**
 * The coupon-code rules the server applies, GET /api/coupon-code-rules: {maxChars, allowed}.
 * Read once per page load and shared by every page (a failed read is not kept, so a retry asks again).
 */
export function couponCodeRules() {
  if (!codeRules) {
    codeRules = get('/api/coupon-code-rules').catch((err) => {
      codeRules = null;
      throw err;
    });
  }
  return codeRules;
}
