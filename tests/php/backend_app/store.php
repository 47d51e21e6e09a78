<?php

// The test backend's SQLite database (schema.sql): sessions, products, and the record of every
// request and close event that the integration tests read back. PDO with pdo_sqlite, as a
// TYPO3 or Symfony application would reach its database (Debian: php8.2-sqlite3).

declare(strict_types=1);

namespace CapstanTestBackend;

final class Store
{
    /** The key TYPO3 derives session ids' HMACs from (its encryptionKey); any fixed text here. */
    public const TYPO3_ENCRYPTION_KEY = 'capstan-test-typo3-encryption-key';

    private \PDO $pdo;

    public function __construct(string $path)
    {
        if (!extension_loaded('pdo_sqlite')) {
            throw new \RuntimeException('pdo_sqlite is missing: apt-get install php8.2-sqlite3');
        }
        // Several php -S workers write at once: wait for the lock rather than fail.
        $this->pdo = new \PDO('sqlite:' . $path, null, null, [
            \PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION,
            \PDO::ATTR_DEFAULT_FETCH_MODE => \PDO::FETCH_ASSOC,
            \PDO::ATTR_TIMEOUT => 10,
        ]);
        $this->pdo->exec('PRAGMA busy_timeout = 10000');
    }

    public static function fromEnvironment(): self
    {
        $path = getenv('BACKEND_DB');
        if (!is_string($path) || $path === '') {
            throw new \RuntimeException('BACKEND_DB (the SQLite file) is not set');
        }
        return new self($path);
    }

    public function createSchema(): void
    {
        $this->pdo->exec((string) file_get_contents(__DIR__ . '/schema.sql'));
    }

    // ---- sessions ---------------------------------------------------------------------------

    /** The fe_sessions id of a cookie's value: TYPO3 keeps an HMAC, PHP's session handler the id. */
    public static function sessionKey(string $cookie, string $value): string
    {
        return $cookie === 'fe_typo3_user' ? hash_hmac('sha256', $value, self::TYPO3_ENCRYPTION_KEY) : $value;
    }

    /** @param array<string, mixed> $data */
    public function addSession(string $cookie, string $value, int $userId, string $identity, array $data): void
    {
        $this->pdo->prepare('INSERT OR REPLACE INTO fe_sessions (ses_id, ses_name, ses_userid, ses_identity, ses_data, ses_tstamp)
                             VALUES (?, ?, ?, ?, ?, ?)')
            ->execute([self::sessionKey($cookie, $value), $cookie, $userId, $identity,
                       json_encode((object) $data, JSON_THROW_ON_ERROR), time()]);
    }

    /** @return array{id: int, identity: string, data: array<string, mixed>}|null */
    public function session(string $cookie, string $value): ?array
    {
        $q = $this->pdo->prepare('SELECT ses_userid, ses_identity, ses_data FROM fe_sessions WHERE ses_id = ? AND ses_name = ?');
        $q->execute([self::sessionKey($cookie, $value), $cookie]);
        $row = $q->fetch();
        if ($row === false) {
            return null;
        }
        return ['id' => (int) $row['ses_userid'], 'identity' => (string) $row['ses_identity'],
                'data' => json_decode((string) $row['ses_data'], true, 64, JSON_THROW_ON_ERROR)];
    }

    // ---- products ---------------------------------------------------------------------------

    public function addProduct(int $id, string $name, float $price): void
    {
        $this->pdo->prepare('INSERT OR REPLACE INTO products (id, name, price) VALUES (?, ?, ?)')->execute([$id, $name, $price]);
    }

    /** @return array{id: int, name: string, price: float}|null */
    public function product(int $id): ?array
    {
        $q = $this->pdo->prepare('SELECT id, name, price FROM products WHERE id = ?');
        $q->execute([$id]);
        $row = $q->fetch();
        return $row === false ? null : ['id' => (int) $row['id'], 'name' => (string) $row['name'], 'price' => (float) $row['price']];
    }

    // ---- what the tests read back -----------------------------------------------------------

    /** A request has arrived: its row, before anything else is done with it. */
    public function begin(string $endpoint, float $started, string $body): int
    {
        $this->pdo->prepare('INSERT INTO requests (endpoint, started, pid, body) VALUES (?, ?, ?, ?)')
            ->execute([$endpoint, $started, getmypid(), $body]);
        return (int) $this->pdo->lastInsertId();
    }

    /** @param array<string, string|null> $fields kind, event, action, connection, route, signature, content_type, note */
    public function describe(int $seq, array $fields): void
    {
        $allowed = ['kind', 'event', 'action', 'connection', 'route', 'signature', 'content_type', 'note'];
        $fields = array_intersect_key($fields, array_flip($allowed));
        if ($fields === []) {
            return;
        }
        $set = implode(', ', array_map(static fn (string $k): string => "$k = ?", array_keys($fields)));
        $this->pdo->prepare("UPDATE requests SET $set WHERE seq = ?")->execute([...array_values($fields), $seq]);
    }

    /** The answer is decided: written before its first byte leaves, so that Capstan cannot send
     *  the next request of a connection before this one's end is on record. */
    public function finish(int $seq, int $status): void
    {
        $this->pdo->prepare('UPDATE requests SET status = ?, ended = ? WHERE seq = ?')->execute([$status, microtime(true), $seq]);
    }

    public function recordClose(?string $connection, ?string $route, ?string $identity, ?int $code): void
    {
        $this->pdo->prepare('INSERT INTO closes (connection, route, identity, code, at) VALUES (?, ?, ?, ?, ?)')
            ->execute([$connection, $route, $identity, $code, microtime(true)]);
    }
}
