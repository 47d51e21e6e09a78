<?php

declare(strict_types=1);

namespace Capstan;

/**
 * The commands that answer an event of a `component = "proxy"` route (SPEC 5a), in the order
 * Capstan runs them. Each send names its target; a `close` ends the event's connection.
 *
 *     ProxyResponse::commands()->send('welcome')->sendToRoute(['joined' => $id])->response()->send();
 *
 * A string is sent as that text; anything else (an array, an object, a number) is written
 * into the answer as JSON, which Capstan sends as its JSON text.
 */
final class Commands
{
    /** @var list<array<string, mixed>> */
    private array $commands = [];

    /** Send to `$to`: Target::self() (default), Target::route(), Target::users([...]) or Target::channel('...'). */
    public function send(mixed $message, string|array $to = 'self'): self
    {
        if ($message === null) {
            // JSON null is neither a text nor a message anyone could act on.
            throw new \InvalidArgumentException('send: the message is null');
        }
        $this->commands[] = ['send' => $message, 'to' => Target::check($to, ['self', 'route'])];
        return $this;
    }

    /** @param list<int|string> $users ids or identities; every connection of each */
    public function sendToUsers(mixed $message, array $users): self
    {
        return $this->send($message, Target::users($users));
    }

    public function sendToChannel(mixed $message, string $channel): self
    {
        return $this->send($message, Target::channel($channel));
    }

    /** Every connection of the event's route. */
    public function sendToRoute(mixed $message): self
    {
        return $this->send($message, 'route');
    }

    /**
     * Close the event's connection with a code applications may use (RFC 6455 7.4: 1000, or
     * 3000-4999) and a reason that fits a close frame (at most 123 bytes of UTF-8).
     */
    public function close(int $code = 1000, string $reason = ''): self
    {
        if ($code !== 1000 && ($code < 3000 || $code > 4999)) {
            throw new \InvalidArgumentException("close: code $code is not 1000 or 3000-4999");
        }
        // preg's u flag checks UTF-8 without needing ext-mbstring.
        if (strlen($reason) > 123 || preg_match('//u', $reason) !== 1) {
            throw new \InvalidArgumentException('close: the reason is at most 123 bytes of UTF-8');
        }
        $this->commands[] = ['close' => ['code' => $code, 'reason' => $reason]];
        return $this;
    }

    /** The 200 `{"commands":[...]}` answer; no commands is a valid answer too. */
    public function response(): ProxyResponse
    {
        return ProxyResponse::ofCommands($this->commands);
    }

    /** @return list<array<string, mixed>> */
    public function toArray(): array
    {
        return $this->commands;
    }
}
