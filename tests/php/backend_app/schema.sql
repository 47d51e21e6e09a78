-- The test backend's database (tests/php/backend_app): a stand-in for a TYPO3 / Symfony
-- application's tables, plus what the integration tests read back (every request the app
-- received, every close event). Created by setup.php; WAL so the tests can read while the
-- PHP workers write.
PRAGMA journal_mode = WAL;

-- As TYPO3's fe_sessions: one row per logged-in browser session. For the fe_typo3_user cookie
-- ses_id is the HMAC of the cookie's session id (TYPO3 >= 10.4.14 stores no plain id); for
-- PHPSESSID it is the id itself, as Symfony's PdoSessionHandler keeps it.
CREATE TABLE IF NOT EXISTS fe_sessions (
    ses_id       TEXT PRIMARY KEY,
    ses_name     TEXT NOT NULL,            -- the cookie: fe_typo3_user or PHPSESSID
    ses_userid   INTEGER NOT NULL,         -- fe_users.uid
    ses_identity TEXT NOT NULL,            -- fe_users.username
    ses_data     TEXT NOT NULL DEFAULT '{}',
    ses_tstamp   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS products (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL,
    price REAL NOT NULL
);

-- Every request that reached router.php, in arrival order (seq), signed or not.
CREATE TABLE IF NOT EXISTS requests (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint   TEXT NOT NULL,              -- /ws/connect, /ws/action, /ws/events, ...
    kind       TEXT,                       -- connect | action | event (once the signature verified)
    event      TEXT,                       -- open | message | close | timer
    action     TEXT,
    connection TEXT,
    route      TEXT,
    signature  TEXT,                       -- 'ok', or why the request was refused
    content_type TEXT,                     -- as Capstan sent it
    note       TEXT,                       -- what the app found wrong with a signed body
    status     INTEGER,                    -- the answer's HTTP status
    started    REAL NOT NULL,              -- unix time, microseconds
    ended      REAL,                       -- written before the answer's first byte leaves
    pid        INTEGER,                    -- the php -S worker
    body       TEXT
);

-- Close events of component = "proxy" routes: nobody is left to answer, so they are kept here.
CREATE TABLE IF NOT EXISTS closes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    connection TEXT,
    route      TEXT,
    identity   TEXT,
    code       INTEGER,
    at         REAL NOT NULL
);
