<?php

declare(strict_types=1);

namespace Capstan;

/**
 * A request that does not prove it comes from Capstan: no `X-Capstan-Signature`, a malformed
 * one, a wrong MAC or a timestamp out of tolerance. Answer it with 401 and do nothing else.
 */
final class SignatureException extends \RuntimeException
{
}
