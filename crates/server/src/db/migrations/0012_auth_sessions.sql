-- Server-side sessions behind the signed `admin_session` cookie: logout revokes the one,
-- "log out everywhere" every session of the subject (docs/security.md). The cookie carries
-- the id; a cookie whose row is gone or revoked is refused even before it expires.
CREATE TABLE auth_sessions (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX auth_sessions_subject ON auth_sessions (subject);
