<?php

declare(strict_types=1);

namespace Capstan\Tests;

/**
 * PHP's built-in web server (`php -S`) on a free local port, running one router script: a real
 * HTTP peer for the tests, with nothing to install.
 */
final class BuiltinServer
{
    public readonly string $url;

    /** @var resource */
    private $process;

    /** @param array<string, string> $env added to this process's environment */
    public function __construct(string $router, array $env = [])
    {
        $port = self::freePort();
        $this->url = "http://127.0.0.1:$port";
        // An argument list, not a command line: no shell in between, so stop() reaches php itself.
        $process = proc_open(
            [PHP_BINARY, '-S', "127.0.0.1:$port", $router],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
            $pipes,
            null,
            $env + getenv(),
        );
        if (!is_resource($process)) {
            throw new \RuntimeException('php -S did not start');
        }
        $this->process = $process;
        $deadline = microtime(true) + 5;
        while (($probe = @fsockopen('127.0.0.1', $port, $errno, $error, 0.1)) === false) {
            if (microtime(true) > $deadline) {
                $this->stop();
                throw new \RuntimeException("php -S is not listening on $port: $error");
            }
            usleep(20_000);
        }
        fclose($probe);
    }

    public function stop(): void
    {
        if (is_resource($this->process)) {
            proc_terminate($this->process);
            proc_close($this->process);
        }
    }

    /** A port nothing listens on right now (the kernel's pick, released at once). */
    public static function freePort(): int
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0', $errno, $error);
        if ($socket === false) {
            throw new \RuntimeException("no free port: $error");
        }
        $port = (int) substr(strrchr(stream_socket_get_name($socket, false), ':'), 1);
        fclose($socket);
        return $port;
    }
}
