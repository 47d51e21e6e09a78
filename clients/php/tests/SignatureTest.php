<?php

declare(strict_types=1);

namespace Capstan\Tests;

use Capstan\Signature;
use PHPUnit\Framework\TestCase;

final class SignatureTest extends TestCase
{
    private const SECRET = 'backend-secret-0123456789';
    private const BODY = '{"path":"/live","query":"a=1","headers":{},"address":"127.0.0.1"}';
    private const NOW = 1_765_000_000;

    public function testSignWritesTheSpecsHeader(): void
    {
        $mac = hash_hmac('sha256', self::NOW . '.' . self::BODY, self::SECRET);
        self::assertSame('t=' . self::NOW . ',v1=' . $mac, Signature::sign(self::BODY, self::SECRET, self::NOW));
        // Computed outside PHP (Python's hmac): HMAC-SHA256 keyed "key" of '1765000000.{"a":1}'.
        self::assertSame(
            't=1765000000,v1=2f9a813eb49478cb8417187861100b2846429a47c1af7e23ce7e692bb6958efb',
            Signature::sign('{"a":1}', 'key', 1_765_000_000),
        );
    }

    public function testSignDefaultsToNow(): void
    {
        $header = Signature::sign(self::BODY, self::SECRET);
        self::assertMatchesRegularExpression('/^t=(\d+),v1=[0-9a-f]{64}$/', $header);
        self::assertEqualsWithDelta(time(), (int) substr($header, 2, strpos($header, ',') - 2), 2);
        self::assertTrue(Signature::verify($header, self::BODY, self::SECRET));
    }

    public function testRoundTrip(): void
    {
        $header = Signature::sign(self::BODY, self::SECRET, self::NOW);
        self::assertTrue(Signature::verify($header, self::BODY, self::SECRET, 300, self::NOW));
        self::assertNull(Signature::fault($header, self::BODY, self::SECRET, 300, self::NOW));
        self::assertTrue(Signature::verify(Signature::sign('', self::SECRET, self::NOW), '', self::SECRET, 300, self::NOW));
    }

    public function testWrongSecret(): void
    {
        $header = Signature::sign(self::BODY, self::SECRET, self::NOW);
        self::assertFalse(Signature::verify($header, self::BODY, self::SECRET . 'x', 300, self::NOW));
        self::assertSame('signature mismatch', Signature::fault($header, self::BODY, 'other', 300, self::NOW));
    }

    public function testAnEmptySecretNeitherSignsNorVerifies(): void
    {
        $header = 't=' . self::NOW . ',v1=' . hash_hmac('sha256', self::NOW . '.' . self::BODY, '');
        self::assertFalse(Signature::verify($header, self::BODY, '', 300, self::NOW));
        $this->expectException(\InvalidArgumentException::class);
        Signature::sign(self::BODY, '');
    }

    public function testTamperedBody(): void
    {
        $header = Signature::sign(self::BODY, self::SECRET, self::NOW);
        self::assertFalse(Signature::verify($header, str_replace('a=1', 'a=2', self::BODY), self::SECRET, 300, self::NOW));
        self::assertFalse(Signature::verify($header, self::BODY . ' ', self::SECRET, 300, self::NOW));
    }

    public function testTamperedTimestamp(): void
    {
        $header = Signature::sign(self::BODY, self::SECRET, self::NOW);
        $moved = str_replace('t=' . self::NOW, 't=' . (self::NOW + 1), $header);
        self::assertFalse(Signature::verify($moved, self::BODY, self::SECRET, 300, self::NOW));
    }

    public function testStaleAndFutureTimestamps(): void
    {
        $header = Signature::sign(self::BODY, self::SECRET, self::NOW);
        self::assertTrue(Signature::verify($header, self::BODY, self::SECRET, 300, self::NOW + 300));
        self::assertTrue(Signature::verify($header, self::BODY, self::SECRET, 300, self::NOW - 300));
        self::assertFalse(Signature::verify($header, self::BODY, self::SECRET, 300, self::NOW + 301));
        self::assertFalse(Signature::verify($header, self::BODY, self::SECRET, 300, self::NOW - 301));
        self::assertSame('signature timestamp out of tolerance', Signature::fault($header, self::BODY, self::SECRET, 300, self::NOW + 301));
        // The tolerance is the caller's; 300 s is the default.
        self::assertTrue(Signature::verify($header, self::BODY, self::SECRET, 1000, self::NOW + 1000));
        self::assertFalse(Signature::verify($header, self::BODY, self::SECRET, 0, self::NOW + 1));
        self::assertFalse(Signature::verify(Signature::sign(self::BODY, self::SECRET, time() - 301), self::BODY, self::SECRET));
    }

    public function testSeveralV1EntriesAnyOneMatching(): void
    {
        $mac = hash_hmac('sha256', self::NOW . '.' . self::BODY, self::SECRET);
        $old = hash_hmac('sha256', self::NOW . '.' . self::BODY, 'old-secret');
        $header = 't=' . self::NOW . ",v1=$old,v1=$mac";
        self::assertTrue(Signature::verify($header, self::BODY, self::SECRET, 300, self::NOW));
        self::assertTrue(Signature::verify($header, self::BODY, 'old-secret', 300, self::NOW));
        self::assertFalse(Signature::verify($header, self::BODY, 'third-secret', 300, self::NOW));
        // Spaces after commas, upper-case hex and an unknown scheme are tolerated.
        self::assertTrue(Signature::verify('t=' . self::NOW . ', v0=abc, v1=' . strtoupper($mac), self::BODY, self::SECRET, 300, self::NOW));
    }

    /** @dataProvider malformedHeaders */
    public function testMalformedHeaders(string $header): void
    {
        self::assertFalse(Signature::verify($header, self::BODY, self::SECRET, 300, self::NOW));
        self::assertSame('malformed signature header', Signature::fault($header, self::BODY, self::SECRET, 300, self::NOW));
    }

    public static function malformedHeaders(): iterable
    {
        $t = (string) self::NOW;
        $mac = hash_hmac('sha256', $t . '.' . self::BODY, self::SECRET);
        yield 'empty' => [''];
        yield 'only t' => ["t=$t"];
        yield 'only v1' => ["v1=$mac"];
        yield 'two t' => ["t=$t,t=$t,v1=$mac"];
        yield 't not a number' => ["t=abc,v1=$mac"];
        yield 'negative t' => ["t=-$t,v1=$mac"];
        yield 'fractional t' => ["t=$t.5,v1=$mac"];
        yield 'empty t' => ["t=,v1=$mac"];
        yield 'short mac' => ["t=$t,v1=" . substr($mac, 0, 63)];
        yield 'long mac' => ["t=$t,v1={$mac}0"];
        yield 'mac not hex' => ["t=$t,v1=" . str_repeat('g', 64)];
        yield 'one good, one bad mac' => ["t=$t,v1=$mac,v1=xyz"];
        yield 'an item without =' => ["t=$t,v1=$mac,junk"];
        yield 'semicolons' => ["t=$t;v1=$mac"];
        yield 'trailing comma' => ["t=$t,v1=$mac,"];
        yield 'newline in t' => ["t=$t\n,v1=$mac"];
    }
}
