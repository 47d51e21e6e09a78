<?php

declare(strict_types=1);

namespace Capstan;

/**
 * A request Capstan sent to the application (SPEC 5a), its signature checked before its JSON is
 * read: nothing in an unsigned body is looked at. Three kinds, told apart by their fields:
 *
 * - `connect`: a new connection's `path`, `query`, `headers` (lower-case names), `address`;
 * - `action` (`kind = "http"`): `route`, `action`, `data`, `user` {id, identity, data}, `connection`;
 * - `event` (`component = "proxy"`): `event` (open|message|close|timer), `route`, `connection`,
 *   `user`, `message`, `code`.
 *
 * An accessor for a field the request does not carry answers null (or [] for headers).
 */
final class ProxyRequest
{
    public const CONNECT = 'connect';
    public const ACTION = 'action';
    public const EVENT = 'event';

    /** @param array<string, mixed> $fields */
    private function __construct(private readonly array $fields, private readonly string $kind)
    {
    }

    /** The request PHP is serving now: its raw body and its X-Capstan-Signature header. */
    public static function fromGlobals(string $secret, int $tolerance = Signature::TOLERANCE): self
    {
        $body = file_get_contents('php://input');
        $header = $_SERVER['HTTP_X_CAPSTAN_SIGNATURE'] ?? null;
        return self::fromParts($body === false ? '' : $body, is_string($header) ? $header : null, $secret, null, $tolerance);
    }

    /**
     * A request from its parts (a framework's `$request->getContent()` and header).
     *
     * @throws SignatureException when the signature is missing or does not verify
     * @throws \InvalidArgumentException when the signed body is not one of the three kinds
     */
    public static function fromParts(string $body, ?string $signatureHeader, string $secret, ?int $now = null, int $tolerance = Signature::TOLERANCE): self
    {
        if ($signatureHeader === null || $signatureHeader === '') {
            throw new SignatureException('no ' . Signature::HEADER . ' header');
        }
        $fault = Signature::fault($signatureHeader, $body, $secret, $tolerance, $now);
        if ($fault !== null) {
            throw new SignatureException($fault);
        }
        try {
            $fields = json_decode($body, true, 64, JSON_THROW_ON_ERROR | JSON_BIGINT_AS_STRING);
        } catch (\JsonException $e) {
            throw new \InvalidArgumentException('the body is not JSON: ' . $e->getMessage(), 0, $e);
        }
        if (!is_array($fields) || ($fields !== [] && array_is_list($fields))) {
            throw new \InvalidArgumentException('the body is not a JSON object');
        }
        return new self($fields, self::kindOf($fields));
    }

    private static function kindOf(array $fields): string
    {
        if (is_string($fields['event'] ?? null)) {
            return self::EVENT;
        }
        if (is_string($fields['action'] ?? null)) {
            return self::ACTION;
        }
        if (is_string($fields['path'] ?? null) && is_array($fields['headers'] ?? null)) {
            return self::CONNECT;
        }
        throw new \InvalidArgumentException('not a connect, action or event request');
    }

    /** ProxyRequest::CONNECT, ACTION or EVENT. */
    public function kind(): string
    {
        return $this->kind;
    }

    /** Every field as decoded (objects as arrays), for what the accessors do not cover. */
    public function toArray(): array
    {
        return $this->fields;
    }

    // ---- connect ------------------------------------------------------------------------

    public function path(): ?string
    {
        return $this->string('path');
    }

    /** The upgrade request's query string, without the `?`. */
    public function query(): ?string
    {
        return $this->string('query');
    }

    /** @return array<string, string> header name in lower case => value */
    public function headers(): array
    {
        $headers = $this->fields['headers'] ?? [];
        return is_array($headers) ? array_change_key_case($headers, CASE_LOWER) : [];
    }

    public function header(string $name): ?string
    {
        $value = $this->headers()[strtolower($name)] ?? null;
        return is_string($value) ? $value : null;
    }

    /** The client's address, as Capstan saw it. */
    public function address(): ?string
    {
        return $this->string('address');
    }

    /** One cookie of the upgrade request, URL-decoded as PHP's $_COOKIE has it. */
    public function cookie(string $name): ?string
    {
        // RFC 6265 5.4: `name=value` pairs joined by `; `; a value may be in double quotes.
        foreach (explode(';', $this->header('cookie') ?? '') as $pair) {
            [$key, $value] = array_pad(explode('=', trim($pair), 2), 2, '');
            if ($key === $name) {
                if (strlen($value) >= 2 && $value[0] === '"' && $value[-1] === '"') {
                    $value = substr($value, 1, -1);
                }
                return urldecode($value);
            }
        }
        return null;
    }

    /** One query parameter, decoded; names are kept as they are (parse_str turns `a.b` into `a_b`). */
    public function queryParam(string $name): ?string
    {
        foreach (explode('&', $this->query() ?? '') as $pair) {
            [$key, $value] = array_pad(explode('=', $pair, 2), 2, '');
            if (urldecode($key) === $name) {
                return urldecode($value);
            }
        }
        return null;
    }

    // ---- action and event ---------------------------------------------------------------

    public function route(): ?string
    {
        return $this->string('route');
    }

    public function action(): ?string
    {
        return $this->string('action');
    }

    /** The action's data, as the client sent it. */
    public function data(): mixed
    {
        return $this->fields['data'] ?? null;
    }

    /** @return array{id: int|string, identity: string, data: array}|null null for an anonymous connection */
    public function user(): ?array
    {
        $user = $this->fields['user'] ?? null;
        return is_array($user) && $user !== [] ? $user : null;
    }

    /** The connection's id, to address it later. */
    public function connection(): ?string
    {
        $id = $this->fields['connection'] ?? null;
        return is_string($id) || is_int($id) ? (string) $id : null;
    }

    /** open, message, close or timer. */
    public function event(): ?string
    {
        return $this->string('event');
    }

    /** A `message` event's text. */
    public function message(): ?string
    {
        return $this->string('message');
    }

    /** A `close` event's close code. */
    public function code(): ?int
    {
        $code = $this->fields['code'] ?? null;
        return is_int($code) ? $code : null;
    }

    private function string(string $field): ?string
    {
        $value = $this->fields[$field] ?? null;
        return is_string($value) ? $value : null;
    }
}
