<?php

declare(strict_types=1);

namespace Capstan\Tests;

use Capstan\ProxyResponse;
use Capstan\Target;
use PHPUnit\Framework\TestCase;

/** Every answer of SPEC 5a, byte for byte. */
final class ProxyResponseTest extends TestCase
{
    private static function assertAnswer(int $status, string $body, ProxyResponse $response): void
    {
        self::assertSame($status, $response->status());
        self::assertSame($body, $response->body());
        self::assertNotNull(json_decode($response->body()), 'the body is JSON');
    }

    public function testConnectUser(): void
    {
        self::assertAnswer(200, '{"user":"alice@example.com","id":7,"data":{"roles":["ROLE_USER"],"name":"Alice/Ä"}}',
            ProxyResponse::user('alice@example.com', 7, ['roles' => ['ROLE_USER'], 'name' => 'Alice/Ä']));
        self::assertAnswer(200, '{"user":"bob","id":"b-2","data":{}}', ProxyResponse::user('bob', 'b-2'));
    }

    public function testConnectUserNeedsAnIdentity(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        ProxyResponse::user('', 1);
    }

    public function testConnectAnonymous(): void
    {
        self::assertAnswer(200, '{"anonymous":true}', ProxyResponse::anonymous());
    }

    public function testConnectRefusals(): void
    {
        self::assertAnswer(403, '{}', ProxyResponse::refuse());
        self::assertAnswer(401, '{}', ProxyResponse::refuse(401));
        $this->expectException(\InvalidArgumentException::class);
        ProxyResponse::refuse(200);
    }

    public function testActionReplies(): void
    {
        self::assertAnswer(200, '{"data":{"id":42,"name":"Chair"}}', ProxyResponse::reply(['id' => 42, 'name' => 'Chair']));
        self::assertAnswer(200, '{"data":null}', ProxyResponse::reply(null));
        self::assertAnswer(200, '{"data":[]}', ProxyResponse::reply([]));
        self::assertAnswer(200, '{"data":{}}', ProxyResponse::reply(new \stdClass()));
        self::assertAnswer(200, '{"data":"ok","to":"sender"}', ProxyResponse::reply('ok', Target::sender()));
        self::assertAnswer(200, '{"data":1.5,"to":"all"}', ProxyResponse::reply(1.5, Target::all()));
        self::assertAnswer(200, '{"data":1,"to":{"users":[7,"bob@example.com"]}}', ProxyResponse::reply(1, Target::users([7, 'bob@example.com'])));
        self::assertAnswer(200, '{"data":1,"to":{"channel":"orders.42"}}', ProxyResponse::reply(1, Target::channel('orders.42')));
        self::assertAnswer(200, '{"data":1,"to":{"users":[1]}}', ProxyResponse::reply(1, ['users' => [1]]));
    }

    /** @dataProvider badReplyTargets */
    public function testActionReplyTargetsAreChecked(string|array $to): void
    {
        $this->expectException(\InvalidArgumentException::class);
        ProxyResponse::reply(1, $to);
    }

    public static function badReplyTargets(): iterable
    {
        yield 'a command target' => ['self'];
        yield 'a typo' => ['Sender'];
        yield 'no users' => [['users' => []]];
        yield 'users as a map' => [['users' => ['a' => 1]]];
        yield 'a user that is a list' => [['users' => [[1]]]];
        yield 'an empty channel' => [['channel' => '']];
        yield 'users and channel' => [['users' => [1], 'channel' => 'x']];
        yield 'another key' => [['user' => 1]];
    }

    public function testActionErrors(): void
    {
        self::assertAnswer(400, '{"message":"Vous ne pouvez pas afficher la discussion d\'un utilisateur bloqué."}',
            ProxyResponse::error("Vous ne pouvez pas afficher la discussion d'un utilisateur bloqué."));
        self::assertAnswer(404, '{"message":"Product not found"}', ProxyResponse::error('Product not found', 404));
        $this->expectException(\InvalidArgumentException::class);
        ProxyResponse::error('no', 500);
    }

    public function testEventCommands(): void
    {
        $response = ProxyResponse::commands()
            ->send('welcome')
            ->send(['text' => 'hi', 'n' => [1]], Target::route())
            ->sendToUsers('psst', [7, 'bob'])
            ->sendToChannel(new \stdClass(), 'chat.1')
            ->sendToRoute(42)
            ->close(4000, 'bye')
            ->response();
        self::assertAnswer(200, '{"commands":['
            . '{"send":"welcome","to":"self"},'
            . '{"send":{"text":"hi","n":[1]},"to":"route"},'
            . '{"send":"psst","to":{"users":[7,"bob"]}},'
            . '{"send":{},"to":{"channel":"chat.1"}},'
            . '{"send":42,"to":"route"},'
            . '{"close":{"code":4000,"reason":"bye"}}]}', $response);
        self::assertAnswer(200, '{"commands":[]}', ProxyResponse::commands()->response());
        self::assertAnswer(200, '{"commands":[{"close":{"code":1000,"reason":""}}]}', ProxyResponse::commands()->close()->response());
    }

    public function testCommandsAreChecked(): void
    {
        $refused = [
            'a reply target' => fn () => ProxyResponse::commands()->send('x', 'sender'),
            'null' => fn () => ProxyResponse::commands()->send(null),
            'no users' => fn () => ProxyResponse::commands()->sendToUsers('x', []),
            'an empty channel' => fn () => ProxyResponse::commands()->sendToChannel('x', ''),
            'a reserved close code' => fn () => ProxyResponse::commands()->close(1006),
            'a protocol close code' => fn () => ProxyResponse::commands()->close(1002),
            'a code past 4999' => fn () => ProxyResponse::commands()->close(5000),
            'a reason over 123 bytes' => fn () => ProxyResponse::commands()->close(4000, str_repeat('é', 62)),
            'a reason not UTF-8' => fn () => ProxyResponse::commands()->close(4000, "\xff"),
        ];
        foreach ($refused as $name => $build) {
            try {
                $build();
                self::fail("accepted $name");
            } catch (\InvalidArgumentException) {
                self::addToAssertionCount(1);
            }
        }
        self::assertSame(1, count(ProxyResponse::commands()->close(4999, str_repeat('é', 61) . 'x')->toArray()));
        self::assertSame(1, count(ProxyResponse::commands()->close(3000)->toArray()));
    }
}
