<?php

declare(strict_types=1);

namespace Capstan;

/**
 * The `to` of an answer (SPEC 5a): a name, `{"users":[...]}` or `{"channel":"..."}`.
 * An action's reply goes to `sender` or `all`; an event command to `self` or `route`.
 * The helpers only spell these; check() refuses a typo here rather than leaving Capstan to
 * refuse the answer while the user waits.
 */
final class Target
{
    private function __construct()
    {
    }

    /** The connection that sent the action (a reply's target). */
    public static function sender(): string
    {
        return 'sender';
    }

    /** Every connection of the action's route (a reply's target). */
    public static function all(): string
    {
        return 'all';
    }

    /** The connection the event is about (a command's target). */
    public static function self(): string
    {
        return 'self';
    }

    /** Every connection of the event's route (a command's target). */
    public static function route(): string
    {
        return 'route';
    }

    /** @param list<int|string> $users ids or identities, every connection of each */
    public static function users(array $users): array
    {
        return ['users' => array_values($users)];
    }

    public static function channel(string $channel): array
    {
        return ['channel' => $channel];
    }

    /**
     * `$to` unchanged when it is one of `$names`, or a users or channel target.
     *
     * @param list<string> $names the names this kind of answer may use
     */
    public static function check(string|array $to, array $names): string|array
    {
        if (is_string($to)) {
            if (!in_array($to, $names, true)) {
                throw new \InvalidArgumentException("to: \"$to\" is not one of " . implode(', ', $names) . ', users or channel');
            }
            return $to;
        }
        if (array_keys($to) === ['users'] && is_array($to['users']) && $to['users'] !== [] && array_is_list($to['users'])) {
            foreach ($to['users'] as $user) {
                if (!is_int($user) && (!is_string($user) || $user === '')) {
                    throw new \InvalidArgumentException('to: users are ids or identities');
                }
            }
            return $to;
        }
        if (array_keys($to) === ['channel'] && is_string($to['channel']) && $to['channel'] !== '') {
            return $to;
        }
        throw new \InvalidArgumentException('to: {"users":[ids or identities]} or {"channel":"name"}');
    }
}
