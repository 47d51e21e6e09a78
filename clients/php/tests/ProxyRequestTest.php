<?php

declare(strict_types=1);

namespace Capstan\Tests;

use Capstan\ProxyRequest;
use Capstan\Signature;
use Capstan\SignatureException;
use PHPUnit\Framework\TestCase;

/** The three request kinds of SPEC 5a, as Capstan writes them, signed and parsed. */
final class ProxyRequestTest extends TestCase
{
    private const SECRET = 'backend-secret-0123456789';
    private const NOW = 1_765_000_000;

    private const CONNECT = '{"path":"/live","query":"token=abc%20d&room=lobby&a.b=1&empty=&flag",'
        . '"headers":{"cookie":"PHPSESSID=s3ss10n; fe_typo3_user=f%2Bu; quoted=\"q v\"","User-Agent":"Firefox","origin":"https://example.com"},'
        . '"address":"203.0.113.7"}';
    private const ACTION = '{"route":"/notifications","action":"show","data":{"id":42},'
        . '"user":{"id":7,"identity":"alice@example.com","data":{"roles":["ROLE_USER"]}},"connection":"c-19"}';
    private const EVENT = '{"event":"close","route":"/chat","connection":"c-3",'
        . '"user":{"id":"alice@example.com","identity":"alice@example.com","data":{}},"code":1001}';

    private static function request(string $body, ?int $signedAt = self::NOW): ProxyRequest
    {
        return ProxyRequest::fromParts($body, Signature::sign($body, self::SECRET, $signedAt), self::SECRET, self::NOW);
    }

    public function testConnect(): void
    {
        $r = self::request(self::CONNECT);
        self::assertSame(ProxyRequest::CONNECT, $r->kind());
        self::assertSame('/live', $r->path());
        self::assertSame('token=abc%20d&room=lobby&a.b=1&empty=&flag', $r->query());
        self::assertSame('203.0.113.7', $r->address());
        self::assertSame('Firefox', $r->headers()['user-agent']);  // names lower-cased whatever came
        self::assertSame('Firefox', $r->header('User-Agent'));
        self::assertSame('https://example.com', $r->header('origin'));
        self::assertNull($r->header('authorization'));
        self::assertSame('s3ss10n', $r->cookie('PHPSESSID'));
        self::assertSame('f+u', $r->cookie('fe_typo3_user'));
        self::assertSame('q v', $r->cookie('quoted'));
        self::assertNull($r->cookie('phpsessid'));  // cookie names are case-sensitive
        self::assertNull($r->cookie('be_typo3_user'));
        self::assertSame('abc d', $r->queryParam('token'));
        self::assertSame('lobby', $r->queryParam('room'));
        self::assertSame('1', $r->queryParam('a.b'));
        self::assertSame('', $r->queryParam('empty'));
        self::assertSame('', $r->queryParam('flag'));
        self::assertNull($r->queryParam('missing'));
        self::assertNull($r->action());
        self::assertNull($r->event());
        self::assertNull($r->user());
    }

    public function testAction(): void
    {
        $r = self::request(self::ACTION);
        self::assertSame(ProxyRequest::ACTION, $r->kind());
        self::assertSame('/notifications', $r->route());
        self::assertSame('show', $r->action());
        self::assertSame(['id' => 42], $r->data());
        self::assertSame(['id' => 7, 'identity' => 'alice@example.com', 'data' => ['roles' => ['ROLE_USER']]], $r->user());
        self::assertSame('c-19', $r->connection());
        self::assertNull($r->path());
        self::assertSame([], $r->headers());
        self::assertNull($r->cookie('PHPSESSID'));
        self::assertSame(json_decode(self::ACTION, true), $r->toArray());
    }

    public function testEvents(): void
    {
        $r = self::request(self::EVENT);
        self::assertSame(ProxyRequest::EVENT, $r->kind());
        self::assertSame('close', $r->event());
        self::assertSame('/chat', $r->route());
        self::assertSame('c-3', $r->connection());
        self::assertSame('alice@example.com', $r->user()['identity']);
        self::assertSame(1001, $r->code());
        self::assertNull($r->message());

        $m = self::request('{"event":"message","route":"/chat","connection":"c-3","user":null,"message":"{\"text\":\"hi\"}"}');
        self::assertSame('message', $m->event());
        self::assertSame('{"text":"hi"}', $m->message());
        self::assertNull($m->user());  // an anonymous connection
        self::assertNull($m->code());
        self::assertSame(ProxyRequest::EVENT, self::request('{"event":"timer","route":"/chat"}')->kind());
    }

    public function testAnActionNamedLikeAnEventFieldIsStillAnAction(): void
    {
        self::assertSame(ProxyRequest::ACTION, self::request('{"route":"/n","action":"path","data":{"path":"/x","headers":{}}}')->kind());
    }

    public function testAMissingSignatureIsRefused(): void
    {
        foreach ([null, ''] as $header) {
            try {
                ProxyRequest::fromParts(self::ACTION, $header, self::SECRET, self::NOW);
                self::fail('accepted without a signature');
            } catch (SignatureException $e) {
                self::assertStringContainsString('X-Capstan-Signature', $e->getMessage());
            }
        }
    }

    /** @dataProvider badSignatures */
    public function testABadSignatureIsRefused(string $body, string $header): void
    {
        $this->expectException(SignatureException::class);
        ProxyRequest::fromParts($body, $header, self::SECRET, self::NOW);
    }

    public static function badSignatures(): iterable
    {
        yield 'wrong secret' => [self::ACTION, Signature::sign(self::ACTION, 'other-secret', self::NOW)];
        yield 'another body' => [self::ACTION, Signature::sign(self::EVENT, self::SECRET, self::NOW)];
        yield 'stale' => [self::ACTION, Signature::sign(self::ACTION, self::SECRET, self::NOW - 301)];
        yield 'future' => [self::ACTION, Signature::sign(self::ACTION, self::SECRET, self::NOW + 301)];
        yield 'malformed' => [self::ACTION, 'v1=' . str_repeat('0', 64)];
        // Not JSON, but the signature is checked first: an unsigned body is never parsed.
        yield 'bad JSON, bad signature' => ['{', 't=' . self::NOW . ',v1=' . str_repeat('0', 64)];
    }

    public function testAToleranceOfTheCallersChoice(): void
    {
        $header = Signature::sign(self::ACTION, self::SECRET, self::NOW - 600);
        self::assertSame('show', ProxyRequest::fromParts(self::ACTION, $header, self::SECRET, self::NOW, 600)->action());
        $this->expectException(SignatureException::class);
        ProxyRequest::fromParts(self::ACTION, $header, self::SECRET, self::NOW);
    }

    /** @dataProvider notRequests */
    public function testSignedBodiesThatAreNotRequestsAreInvalidArguments(string $body): void
    {
        $this->expectException(\InvalidArgumentException::class);
        self::request($body);
    }

    public static function notRequests(): iterable
    {
        yield 'not JSON' => ['{"event":'];
        yield 'empty' => [''];
        yield 'a list' => ['[{"event":"open"}]'];
        yield 'a string' => ['"event"'];
        yield 'an empty object' => ['{}'];
        yield 'none of the three' => ['{"route":"/chat","connection":"c-1"}'];
        yield 'connect without headers' => ['{"path":"/live","query":""}'];
        yield 'event not a string' => ['{"event":1,"route":"/chat"}'];
    }

    public function testFromGlobalsReadsTheSignatureHeader(): void
    {
        // php://input is empty under the CLI: an empty body, signed, is still not a request.
        $_SERVER['HTTP_X_CAPSTAN_SIGNATURE'] = Signature::sign('', self::SECRET);
        try {
            ProxyRequest::fromGlobals(self::SECRET);
            self::fail('an empty body was accepted');
        } catch (\InvalidArgumentException $e) {
            self::assertNotInstanceOf(SignatureException::class, $e);
        }
        $_SERVER['HTTP_X_CAPSTAN_SIGNATURE'] = Signature::sign('', 'other-secret');
        $this->expectException(SignatureException::class);
        try {
            ProxyRequest::fromGlobals(self::SECRET);
        } finally {
            unset($_SERVER['HTTP_X_CAPSTAN_SIGNATURE']);
        }
    }
}
