<?php

declare(strict_types=1);

namespace Capstan;

/**
 * The application's answer to a Capstan proxy request, written as SPEC 5a writes it: a status
 * and a JSON body. send() emits it from plain PHP; status() and body() hand it to a framework
 * (`new Response($r->body(), $r->status(), ['Content-Type' => 'application/json'])`).
 */
final class ProxyResponse
{
    private function __construct(private readonly int $status, private readonly string $body)
    {
    }

    // ---- connect proxy ------------------------------------------------------------------

    /**
     * The connection belongs to this user: 200 `{"user","id","data"}`.
     *
     * @param array<string, mixed> $data sent as a JSON object, also when empty (the spec's `{...}`)
     */
    public static function user(string $identity, int|string $id, array $data = []): self
    {
        if ($identity === '') {
            throw new \InvalidArgumentException('user: the identity is empty');
        }
        return new self(200, Json::encode(['user' => $identity, 'id' => $id, 'data' => (object) $data]));
    }

    /** Let the connection in without a user: 200 `{"anonymous":true}`. */
    public static function anonymous(): self
    {
        return new self(200, Json::encode(['anonymous' => true]));
    }

    /** Refuse the connection: 401 (who are you?) or 403 (not you), an empty JSON object. */
    public static function refuse(int $status = 403): self
    {
        if ($status !== 401 && $status !== 403) {
            throw new \InvalidArgumentException('refuse: the connect proxy refuses with 401 or 403');
        }
        return new self($status, '{}');
    }

    // ---- action proxy (kind = "http") ---------------------------------------------------

    /**
     * The action's reply: 200 `{"data":...}`, sent under the action's name to `$to` (Target::sender(),
     * Target::all(), Target::users([...]), Target::channel('...')), or to the action's
     * configured `to` when null.
     */
    public static function reply(mixed $data, string|array|null $to = null): self
    {
        $body = ['data' => $data];
        if ($to !== null) {
            $body['to'] = Target::check($to, ['sender', 'all']);
        }
        return new self(200, Json::encode($body));
    }

    /** A refusal the sender receives as `error` with this message: 4xx `{"message":...}`. */
    public static function error(string $message, int $status = 400): self
    {
        // Capstan reads a 5xx as the application failing, not as an answer to pass on.
        if ($status < 400 || $status > 499) {
            throw new \InvalidArgumentException('error: the status is a 4xx');
        }
        return new self($status, Json::encode(['message' => $message]));
    }

    // ---- event proxy (component = "proxy") ----------------------------------------------

    /** A list of commands to build, answered as 200 `{"commands":[...]}` by Commands::response(). */
    public static function commands(): Commands
    {
        return new Commands();
    }

    /** @internal Commands::response() builds through this. */
    public static function ofCommands(array $commands): self
    {
        return new self(200, Json::encode(['commands' => $commands]));
    }

    // ---- output -------------------------------------------------------------------------

    public function status(): int
    {
        return $this->status;
    }

    public function body(): string
    {
        return $this->body;
    }

    /** Emits status, Content-Type and body from plain PHP (headers must not have been sent). */
    public function send(): void
    {
        http_response_code($this->status);
        header('Content-Type: application/json');
        echo $this->body;
    }
}
