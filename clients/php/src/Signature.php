<?php

declare(strict_types=1);

namespace Capstan;

/**
 * The `X-Capstan-Signature` header of every request Capstan sends to the application (SPEC 5a):
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with [backend] secret>`.
 *
 * The timestamp is inside the MAC so that a captured request cannot be replayed later than
 * the tolerance; the body is inside it so that nothing can be changed in transit. Several
 * `v1=` entries are accepted, any one matching, so that a secret can be rotated without a
 * moment where one side refuses the other.
 */
final class Signature
{
    public const HEADER = 'X-Capstan-Signature';
    public const TOLERANCE = 300;

    private function __construct()
    {
    }

    /** The header value for `$body`, signed now or at `$time`. */
    public static function sign(string $body, string $secret, ?int $time = null): string
    {
        if ($secret === '') {
            // An empty key is a key anyone has: refuse to pretend it signs anything.
            throw new \InvalidArgumentException('the signing secret is empty');
        }
        $t = $time ?? time();
        return 't=' . $t . ',v1=' . hash_hmac('sha256', $t . '.' . $body, $secret);
    }

    /** Whether `$header` signs `$body` with `$secret`, within `$tolerance` seconds of now. */
    public static function verify(string $header, string $body, string $secret, int $tolerance = self::TOLERANCE, ?int $now = null): bool
    {
        return self::fault($header, $body, $secret, $tolerance, $now) === null;
    }

    /**
     * Why verify() refuses, or null when it accepts: for a log line, never for the client
     * (telling a forger which part was wrong helps nobody else).
     */
    public static function fault(string $header, string $body, string $secret, int $tolerance = self::TOLERANCE, ?int $now = null): ?string
    {
        if ($tolerance < 0) {
            throw new \InvalidArgumentException('the tolerance is a number of seconds, not negative');
        }
        if ($secret === '') {
            return 'no secret is configured';
        }
        $parsed = self::parse($header);
        if ($parsed === null) {
            return 'malformed signature header';
        }
        [$t, $macs] = $parsed;
        // Both directions: a timestamp from the future is as replayable as an old one.
        if (abs(($now ?? time()) - $t) > $tolerance) {
            return 'signature timestamp out of tolerance';
        }
        $expected = hash_hmac('sha256', $t . '.' . $body, $secret);
        foreach ($macs as $mac) {
            if (hash_equals($expected, $mac)) {
                return null;
            }
        }
        return 'signature mismatch';
    }

    /**
     * [t, [v1 MACs in lower case]], or null unless there is exactly one all-digit `t` and at
     * least one 64-digit hex `v1`. Other keys (a future `v2`) are skipped, as Stripe's are.
     *
     * @return array{0:int, 1:list<string>}|null
     */
    private static function parse(string $header): ?array
    {
        $t = null;
        $macs = [];
        foreach (explode(',', $header) as $item) {
            $pair = explode('=', trim($item, " \t"), 2);  // HTTP optional whitespace only
            if (count($pair) !== 2 || $pair[0] === '') {
                return null;
            }
            [$key, $value] = $pair;
            if ($key === 't') {
                if ($t !== null || preg_match('/^[0-9]{1,12}$/D', $value) !== 1) {
                    return null;
                }
                $t = (int) $value;
            } elseif ($key === 'v1') {
                if (preg_match('/^[0-9a-fA-F]{64}$/D', $value) !== 1) {
                    return null;
                }
                $macs[] = strtolower($value);
            }
        }
        return $t === null || $macs === [] ? null : [$t, $macs];
    }
}
