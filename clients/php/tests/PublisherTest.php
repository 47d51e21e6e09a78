<?php

declare(strict_types=1);

namespace Capstan\Tests;

use Capstan\PublishException;
use Capstan\Publisher;
use PHPUnit\Framework\TestCase;

/**
 * Publisher against a real HTTP server: PHP's built-in one running fixtures/publish_router.php,
 * which records every request and answers as Capstan's publish endpoint does.
 */
final class PublisherTest extends TestCase
{
    private const KEY = 'test-key';

    private static ?BuiltinServer $server = null;
    private static string $record = '';
    private static string $base = '';

    public static function setUpBeforeClass(): void
    {
        self::$record = tempnam(sys_get_temp_dir(), 'capstan-publish-record-');
        self::$server = new BuiltinServer(__DIR__ . '/fixtures/publish_router.php', ['CAPSTAN_RECORD' => self::$record]);
        self::$base = self::$server->url;
    }

    public static function tearDownAfterClass(): void
    {
        self::$server?->stop();
        self::$server = null;
        @unlink(self::$record);
    }

    protected function setUp(): void
    {
        file_put_contents(self::$record, '');
    }

    /** @return array{method: string, uri: string, headers: array<string, string>, body: string} */
    private static function recorded(): array
    {
        $record = json_decode((string) file_get_contents(self::$record), true);
        self::assertIsArray($record, 'the server recorded no request');
        return $record;
    }

    private static function publisher(string $key = self::KEY): Publisher
    {
        return new Publisher(self::$base, $key);
    }

    private static function publishException(callable $publish): PublishException
    {
        try {
            $publish();
        } catch (PublishException $e) {
            return $e;
        }
        self::fail('no PublishException');
    }

    public function testToRouteSendsTheSpecsRequestAndReturnsTheCount(): void
    {
        $delivered = self::publisher()->toRoute('/notifications', 'news', ['text' => 'héllo / wörld', 'n' => [1, 2], 'x' => 1.0]);
        self::assertSame(2, $delivered);
        $request = self::recorded();
        self::assertSame('POST', $request['method']);
        self::assertSame('/publish', $request['uri']);
        self::assertSame('Bearer test-key', $request['headers']['Authorization']);
        self::assertSame('application/json', $request['headers']['Content-Type']);
        self::assertArrayNotHasKey('Expect', $request['headers']);
        self::assertSame('{"route":"/notifications","action":"news","data":{"text":"héllo / wörld","n":[1,2],"x":1.0}}', $request['body']);
    }

    public function testToUsersSendsTheUsersAsAList(): void
    {
        self::assertSame(2, self::publisher()->toUsers('/notifications', 'alert', null, ['a' => 'alice@example.com', 'b' => 7]));
        self::assertSame(
            ['route' => '/notifications', 'action' => 'alert', 'data' => null, 'users' => ['alice@example.com', 7]],
            json_decode(self::recorded()['body'], true),
        );
    }

    public function testToChannelSendsNoActionBecausePubsubAlwaysSendsMessage(): void
    {
        self::assertSame(2, self::publisher()->toChannel('/live', 'orders.42', new \stdClass()));
        self::assertSame('{"route":"/live","channel":"orders.42","data":{}}', self::recorded()['body']);
    }

    public function testBatchSendsOneJsonArrayAndReturnsTheServersSum(): void
    {
        $batch = [
            ['route' => '/open', 'action' => 'first', 'data' => 1],
            ['route' => '/notifications', 'action' => 'dm', 'data' => ['to' => 'alice'], 'users' => ['alice@example.com']],
            ['route' => '/live', 'channel' => 'news', 'data' => 'breaking'],
        ];
        self::assertSame(6, self::publisher()->batch($batch));
        self::assertSame($batch, json_decode(self::recorded()['body'], true));
        self::assertStringStartsWith('[{', self::recorded()['body']);
    }

    public function testAnEmptyBatchSendsNothing(): void
    {
        self::assertSame(0, self::publisher()->batch([]));
        self::assertSame('', file_get_contents(self::$record));
    }

    public function testABatchMustBeAList(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        self::publisher()->batch(['one' => ['route' => '/open', 'action' => 'x', 'data' => 1]]);
    }

    public function testABaseUrlWithATrailingSlash(): void
    {
        self::assertSame(2, (new Publisher(self::$base . '/', self::KEY))->toRoute('/open', 'x', 1));
        self::assertSame('/publish', self::recorded()['uri']);
    }

    public function testConsecutivePublicationsOnOnePublisher(): void
    {
        $publisher = self::publisher();
        self::assertSame(2, $publisher->toRoute('/open', 'one', 1));
        self::assertSame(2, $publisher->toRoute('/open', 'two', 2));
        self::assertSame('{"route":"/open","action":"two","data":2}', self::recorded()['body']);
    }

    public function testAWrongKeyIs401(): void
    {
        $e = self::publishException(fn () => self::publisher('wrong')->toRoute('/open', 'x', 1));
        self::assertSame(401, $e->status());
        self::assertSame(401, $e->getCode());
        self::assertSame('a valid Authorization: Bearer <publish.api_key> is required', $e->reason());
        self::assertSame('Bearer wrong', self::recorded()['headers']['Authorization']);
    }

    public function testA400CarriesTheServersReason(): void
    {
        $e = self::publishException(fn () => self::publisher()->toRoute('/bad', 'x', 1));
        self::assertSame(400, $e->status());
        self::assertSame('route: no route "/bad"', $e->reason());
        self::assertStringContainsString('route: no route "/bad"', $e->getMessage());
        self::assertSame(0, $e->delivered());
    }

    public function testA400AfterAPartialBatchCarriesWhatWasDelivered(): void
    {
        $e = self::publishException(fn () => self::publisher()->batch([['route' => '/partial', 'data' => 1], ['route' => '/x', 'data' => 2]]));
        self::assertSame(400, $e->status());
        self::assertSame(3, $e->delivered());
    }

    public function testTooLargeIs413(): void
    {
        // Over 1 MiB, where curl would otherwise ask for "100 Continue" and wait for it.
        $e = self::publishException(fn () => self::publisher()->toRoute('/big', 'x', str_repeat('y', 1100 * 1024)));
        self::assertSame(413, $e->status());
        self::assertSame('the body is larger than publish.max_body', $e->reason());
        self::assertArrayNotHasKey('Expect', self::recorded()['headers']);
    }

    public function testAnAnswerThatIsNotJsonIsTheReasonAsItIs(): void
    {
        $e = self::publishException(fn () => self::publisher()->toRoute('/html', 'x', 1));
        self::assertSame(502, $e->status());
        self::assertSame('<h1>Bad Gateway</h1>', $e->reason());
    }

    public function testASuccessWithoutACountIsAnError(): void
    {
        $e = self::publishException(fn () => self::publisher()->toRoute('/nocount', 'x', 1));
        self::assertSame(202, $e->status());
    }

    public function testNothingListeningIsStatus0(): void
    {
        $e = self::publishException(fn () => (new Publisher('http://127.0.0.1:' . BuiltinServer::freePort(), self::KEY))->toRoute('/open', 'x', 1));
        self::assertSame(0, $e->status());
        self::assertNotSame('', $e->reason());
    }

    public function testAServerThatNeverAnswersIsStatus0AfterTheTimeout(): void
    {
        // Listening but never accepting: the kernel completes the handshake, nobody answers.
        $silent = stream_socket_server('tcp://127.0.0.1:0', $errno, $error);
        self::assertNotFalse($silent, $error);
        $started = microtime(true);
        try {
            $e = self::publishException(fn () => (new Publisher('http://' . stream_socket_get_name($silent, false), self::KEY, 0.3))->toRoute('/open', 'x', 1));
        } finally {
            fclose($silent);
        }
        self::assertSame(0, $e->status());
        self::assertLessThan(2.0, microtime(true) - $started);
    }

    public function testDataJsonCannotHoldIsRefusedBeforeSending(): void
    {
        try {
            self::publisher()->toRoute('/open', 'x', "\xff not UTF-8");
            self::fail('no InvalidArgumentException');
        } catch (\InvalidArgumentException $e) {
            self::assertSame('', file_get_contents(self::$record));
        }
    }

    public function testTheTimeoutIsPositive(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        new Publisher(self::$base, self::KEY, 0);
    }
}
