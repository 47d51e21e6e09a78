<?php

declare(strict_types=1);

namespace Capstan;

/**
 * @internal One encoding for everything sent to Capstan: `/` and non-ASCII as they are (the
 * clients receive the text unchanged, so it stays readable), 1.0 stays 1.0, and a value JSON
 * cannot hold (invalid UTF-8, INF) is the caller's mistake, said at once.
 */
final class Json
{
    private const FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR;

    private function __construct()
    {
    }

    public static function encode(mixed $value): string
    {
        try {
            return json_encode($value, self::FLAGS);
        } catch (\JsonException $e) {
            throw new \InvalidArgumentException('not encodable as JSON: ' . $e->getMessage(), 0, $e);
        }
    }
}
