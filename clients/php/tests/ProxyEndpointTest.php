<?php

declare(strict_types=1);

namespace Capstan\Tests;

use Capstan\Signature;
use PHPUnit\Framework\TestCase;

/**
 * The library inside a running PHP application (fixtures/proxy_app.php under `php -S`): signed
 * requests POSTed as Capstan will POST them, answers read back with status, Content-Type and body.
 */
final class ProxyEndpointTest extends TestCase
{
    private const SECRET = 'backend-secret-0123456789';

    private static ?BuiltinServer $app = null;

    public static function setUpBeforeClass(): void
    {
        self::$app = new BuiltinServer(__DIR__ . '/fixtures/proxy_app.php', ['CAPSTAN_BACKEND_SECRET' => self::SECRET]);
    }

    public static function tearDownAfterClass(): void
    {
        self::$app?->stop();
        self::$app = null;
    }

    /** @return array{0: int, 1: string, 2: string} status, Content-Type, body */
    private static function post(array $request, ?string $signature = 'sign', ?string $raw = null): array
    {
        $body = $raw ?? json_encode($request);
        $headers = ['Content-Type: application/json'];
        if ($signature !== null) {
            $headers[] = 'X-Capstan-Signature: ' . ($signature === 'sign' ? Signature::sign($body, self::SECRET) : $signature);
        }
        $curl = curl_init(self::$app->url . '/ws');
        curl_setopt_array($curl, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $body,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT => 5,
        ]);
        $answer = curl_exec($curl);
        self::assertIsString($answer, curl_error($curl));
        return [curl_getinfo($curl, CURLINFO_RESPONSE_CODE), (string) curl_getinfo($curl, CURLINFO_CONTENT_TYPE), $answer];
    }

    private static function connect(string $query, string $cookie = ''): array
    {
        return self::post(['path' => '/live', 'query' => $query, 'headers' => ['cookie' => $cookie, 'host' => 'example.com'], 'address' => '127.0.0.1']);
    }

    public function testConnectFromASessionCookie(): void
    {
        self::assertSame([200, 'application/json', '{"user":"alice@example.com","id":7,"data":{"name":"Alice"}}'],
            self::connect('', 'theme=dark; PHPSESSID=alice-session'));
        self::assertSame([200, 'application/json', '{"anonymous":true}'], self::connect('guest=1'));
        self::assertSame([403, 'application/json', '{}'], self::connect('guest=0', 'PHPSESSID=someone-else'));
    }

    public function testAction(): void
    {
        $action = ['route' => '/shop', 'action' => 'show', 'data' => ['id' => 42],
            'user' => ['id' => 7, 'identity' => 'alice@example.com', 'data' => []], 'connection' => 'c-1'];
        self::assertSame([200, 'application/json', '{"data":{"id":42,"name":"Chair","for":"alice@example.com"},"to":"sender"}'],
            self::post($action));
        $action['data']['id'] = 43;
        self::assertSame([404, 'application/json', '{"message":"Product not found"}'], self::post($action));
    }

    public function testEvents(): void
    {
        self::assertSame([200, 'application/json', '{"commands":[{"send":"you said: hi","to":"self"},{"send":{"from":"c-9"},"to":"route"}]}'],
            self::post(['event' => 'message', 'route' => '/chat', 'connection' => 'c-9', 'user' => null, 'message' => 'hi']));
        self::assertSame([200, 'application/json', '{"commands":[{"close":{"code":4000,"reason":"bye"}}]}'],
            self::post(['event' => 'open', 'route' => '/chat', 'connection' => 'c-9', 'user' => null]));
    }

    public function testUnsignedOrBadlySignedRequestsAre401(): void
    {
        $connect = ['path' => '/live', 'query' => 'guest=1', 'headers' => [], 'address' => '127.0.0.1'];
        self::assertSame(401, self::post($connect, null)[0]);
        self::assertSame(401, self::post($connect, Signature::sign('{}', self::SECRET))[0]);
        self::assertSame(401, self::post($connect, Signature::sign(json_encode($connect), 'wrong'))[0]);
        self::assertSame(401, self::post($connect, Signature::sign(json_encode($connect), self::SECRET, time() - 3600))[0]);
        self::assertSame(200, self::post($connect)[0]);
    }

    public function testASignedBodyThatIsNotJsonIs400(): void
    {
        [$status, , $body] = self::post([], 'sign', '{not json');
        self::assertSame(400, $status);
        self::assertStringStartsWith('the body is not JSON', json_decode($body, true)['message']);
    }
}
