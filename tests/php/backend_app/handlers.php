<?php

// What the test backend answers, endpoint by endpoint, once router.php has checked the
// request's signature. Each handler gets the verified Capstan\ProxyRequest and answers a
// Capstan\ProxyResponse, as a Symfony controller or a TYPO3 middleware would.

declare(strict_types=1);

namespace CapstanTestBackend;

use Capstan\ProxyRequest;
use Capstan\ProxyResponse;
use Capstan\Target;

/** A signed request the app cannot use: answered 400 and noted in the request log. */
final class BadRequest extends \RuntimeException
{
}

/** An answer that is not a ProxyResponse (the library only builds well-formed ones). */
final class RawAnswer
{
    public function __construct(public readonly int $status, public readonly string $body)
    {
    }
}

final class Handlers
{
    /** Cookies tried in turn: a TYPO3 frontend session, then a Symfony (plain PHP) one. */
    private const SESSION_COOKIES = ['fe_typo3_user', 'PHPSESSID'];

    public function __construct(private readonly Store $store)
    {
    }

    // ---- the connect proxy ------------------------------------------------------------------

    /** /ws/connect: the session cookie decides who the connection is; ?guest=1 lets it in anonymously. */
    public function connect(ProxyRequest $request): ProxyResponse
    {
        $problem = self::connectBodyProblem($request->toArray());
        if ($problem !== null) {
            throw new BadRequest($problem);
        }
        foreach (self::SESSION_COOKIES as $cookie) {
            $value = $request->cookie($cookie);
            if ($value === null) {
                continue;
            }
            $session = $this->store->session($cookie, $value);
            if ($session !== null) {
                return ProxyResponse::user($session['identity'], $session['id'], $session['data']);
            }
        }
        if ($request->queryParam('guest') === '1') {
            return ProxyResponse::anonymous();
        }
        return ProxyResponse::refuse(403);
    }

    /** /ws/connect-slow: as /ws/connect, two seconds later (a session store under load). */
    public function connectSlow(ProxyRequest $request): ProxyResponse
    {
        usleep(2_000_000);
        return $this->connect($request);
    }

    /** /ws/connect-broken: the application fails. */
    public function connectBroken(ProxyRequest $request): RawAnswer
    {
        return new RawAnswer(500, '{"message":"Whoops, looks like something went wrong."}');
    }

    /**
     * SPEC 5a's connect body: {"path","query","headers":{lower-case name: value},"address"}, or
     * why not. The app checks it itself, so that a test learns it from the request log.
     *
     * @param array<string, mixed> $fields
     */
    public static function connectBodyProblem(array $fields): ?string
    {
        foreach (['path', 'query', 'headers', 'address'] as $key) {
            if (!array_key_exists($key, $fields)) {
                return "connect body has no \"$key\"";
            }
        }
        if (!is_string($fields['path']) || !str_starts_with($fields['path'], '/')) {
            return 'connect body: "path" is not a path';
        }
        if (!is_string($fields['query']) || str_starts_with($fields['query'], '?')) {
            return 'connect body: "query" is not a query string without its "?"';
        }
        if (!is_array($fields['headers']) || ($fields['headers'] !== [] && array_is_list($fields['headers']))) {
            return 'connect body: "headers" is not an object';
        }
        foreach ($fields['headers'] as $name => $value) {
            if (!is_string($name) || $name !== strtolower($name)) {
                return "connect body: header name \"$name\" is not in lower case";
            }
            if (!is_string($value)) {
                return "connect body: header \"$name\" is not a string";
            }
        }
        if (!is_string($fields['address']) || $fields['address'] === '') {
            return 'connect body: "address" is not a string';
        }
        return null;
    }

    // ---- the action proxy (kind = "http") ---------------------------------------------------

    /**
     * /ws/action: the tutorial's `show` and friends.
     *   show {"id":N[,"sleep_ms":M]} -> the product, or 404 "Product not found" (id 404 always)
     *   whoami                        -> {"user":<the request's user>,"connection":<its id>}
     *   shout {"text"}                -> {"from","text"} to the action's configured `to`
     *   announce {"text"}             -> {"from","text"} to "all"
     *   dm {"to":[users],"text"}      -> {"from","text"} to {"users":[...]}
     *   boom                          -> 500, with an internal detail the client must not see
     *   slow {"sleep_ms"?}            -> answers after sleep_ms (default 3000)
     *   anything else                 -> 404 "Unknown action <name>"
     */
    public function action(ProxyRequest $request): ProxyResponse|RawAnswer
    {
        $data = $request->data();
        $user = $request->user();
        $identity = $user['identity'] ?? 'guest';
        if (is_array($data) && is_int($data['sleep_ms'] ?? null) && $request->action() !== 'slow') {
            usleep(min($data['sleep_ms'], 10_000) * 1000);
        }
        switch ($request->action()) {
            case 'show':
                $id = is_array($data) && is_numeric($data['id'] ?? null) ? (int) $data['id'] : 0;
                $product = $id === 404 ? null : $this->store->product($id);
                return $product === null ? ProxyResponse::error('Product not found', 404) : ProxyResponse::reply($product);
            case 'whoami':
                if (is_array($user) && ($user['data'] ?? null) === []) {
                    $user['data'] = new \stdClass();  // {} stays {}
                }
                return ProxyResponse::reply(['user' => $user, 'connection' => $request->connection()]);
            case 'shout':
                return ProxyResponse::reply(['from' => $identity, 'text' => $data['text'] ?? null]);
            case 'announce':
                return ProxyResponse::reply(['from' => $identity, 'text' => $data['text'] ?? null], Target::all());
            case 'dm':
                $to = is_array($data) && is_array($data['to'] ?? null) ? $data['to'] : [];
                if ($to === []) {
                    return ProxyResponse::error('dm: "to" lists no users', 422);
                }
                return ProxyResponse::reply(['from' => $identity, 'text' => $data['text'] ?? null], Target::users($to));
            case 'boom':
                return new RawAnswer(500, '{"message":"SQLSTATE[HY000]: General error: 5 database is locked (internal detail)"}');
            case 'slow':
                $ms = is_array($data) && is_int($data['sleep_ms'] ?? null) ? $data['sleep_ms'] : 3000;
                usleep(min($ms, 10_000) * 1000);
                return ProxyResponse::reply(['slow' => true]);
            default:
                return ProxyResponse::error('Unknown action ' . $request->action(), 404);
        }
    }

    // ---- the event proxy (component = "proxy") ----------------------------------------------

    /**
     * /ws/events: a chat component in PHP.
     *   open              -> "welcome <identity>" to self, {"joined":<identity>} to the route
     *   message "sleep:N rest" -> sleeps N ms, then handles "rest"
     *   message "bye"     -> "goodbye <identity>" to self, then close 4000 "bye"
     *   message "to:U text" -> {"from","text","private":true} to user U (an id if all digits)
     *   message text      -> {"from":<identity>,"text":text} to the route
     *   close             -> recorded in the closes table (nobody is left to answer)
     *   timer             -> "tick" to the route
     * An anonymous connection's identity is "guest".
     */
    public function events(ProxyRequest $request): ProxyResponse
    {
        $identity = $request->user()['identity'] ?? 'guest';
        $commands = ProxyResponse::commands();
        switch ($request->event()) {
            case 'open':
                $commands->send("welcome $identity")->sendToRoute(['joined' => $identity]);
                break;
            case 'message':
                $text = $request->message() ?? '';
                if (preg_match('/^sleep:(\d+) ?(.*)$/sD', $text, $m) === 1) {
                    usleep(min((int) $m[1], 10_000) * 1000);
                    $text = $m[2];
                }
                if ($text === 'bye') {
                    $commands->send("goodbye $identity")->close(4000, 'bye');
                } elseif (preg_match('/^to:(\S+) (.*)$/sD', $text, $m) === 1) {
                    $user = ctype_digit($m[1]) ? (int) $m[1] : $m[1];
                    $commands->sendToUsers(['from' => $identity, 'text' => $m[2], 'private' => true], [$user]);
                } else {
                    $commands->sendToRoute(['from' => $identity, 'text' => $text]);
                }
                break;
            case 'close':
                $this->store->recordClose($request->connection(), $request->route(), $request->user()['identity'] ?? null, $request->code());
                break;
            case 'timer':
                $commands->sendToRoute('tick');
                break;
            default:
                throw new BadRequest('unknown event ' . json_encode($request->event()));
        }
        return $commands->response();
    }
}
