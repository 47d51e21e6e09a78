<?php

declare(strict_types=1);

namespace Capstan;

/**
 * A publication Capstan did not take: the HTTP status it answered (0 when no answer came:
 * connection refused, DNS, TLS, timeout) and its reason, as the server words it.
 */
final class PublishException extends \RuntimeException
{
    /**
     * @param int $delivered connections a batch reached although one entry was refused: Capstan
     *                       refuses a malformed entry or unknown route before delivering anything,
     *                       but a component's refusal while delivering the others (Publisher::batch)
     */
    public function __construct(
        private readonly int $status,
        private readonly string $reason,
        private readonly int $delivered = 0,
        ?\Throwable $previous = null,
    ) {
        $prefix = $status === 0 ? 'Capstan publish failed' : "Capstan refused the publication ($status)";
        parent::__construct("$prefix: $reason", $status, $previous);
    }

    /** The HTTP status; 0 when the server could not be reached or did not answer in time. */
    public function status(): int
    {
        return $this->status;
    }

    /** The server's `error` text, or what went wrong on the way. */
    public function reason(): string
    {
        return $this->reason;
    }

    /** Connections reached despite the refusal (see the constructor); 0 for a single publication. */
    public function delivered(): int
    {
        return $this->delivered;
    }
}
