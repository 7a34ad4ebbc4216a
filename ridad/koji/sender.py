"""Sending one request to the Koji hub: attempts, backoff, what answers mean.

The same bytes and headers (call number included) go again after transport
trouble, HTTP 5xx/408 or ServerOffline until the retry policy gives up; the
hub's RetryError to such a resend means the request ran before its answer was
lost (``KojiAnswerLost``). Sessions and call numbers are ``client.py``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from treq.client import HTTPClient
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import deferLater
from twisted.logger import Logger, LogLevel
from twisted.python.failure import Failure

from ridad.errors import KojiAnswerLost, KojiError, KojiFault, KojiUnavailable
from ridad.koji.retry import RetryPolicy, retry_delay_seconds
from ridad.koji.transport import HubRequest, post
from ridad.koji.wire import RETRY_ERROR, SERVER_OFFLINE, decode_response
from ridad.metrics.instruments import Metrics

__all__ = ["HubSender"]


class HubSender:
    """Sends requests to one hub over a treq ``HTTPClient``, retrying."""

    log = Logger()

    def __init__(
        self,
        *,
        http: HTTPClient,
        clock: IReactorTime,
        retry: RetryPolicy,
        random: Callable[[], float],
        timeout_seconds: float,
        metrics: Metrics | None = None,
    ) -> None:
        self._http = http
        self._metrics = metrics or Metrics()
        self._clock = clock
        self._retry = retry
        self._random = random
        self._timeout_seconds = timeout_seconds
        #: How many HTTP requests were made, retries and logins included.
        self.round_trips = 0

    async def send(self, request: HubRequest, session: Mapping[str, str]) -> Any:
        """Send the same bytes and headers until an answer or the policy gives
        up (a ``once`` request: one attempt).

        :raises KojiUnavailable: once the next attempt would start later than
            ``give_up_after_seconds`` after the first (at once for ``once``).
        """
        if request.once:
            return await self.attempt(request, session, 1)
        started = self._clock.seconds()
        attempt = 1
        while True:
            try:
                return await self.attempt(request, session, attempt)
            except KojiUnavailable as trouble:
                delay = retry_delay_seconds(attempt, self._retry, self._random())
                elapsed = self._clock.seconds() - started
                if elapsed + delay > self._retry.give_up_after_seconds:
                    raise KojiUnavailable(
                        f"Giving up on Koji call {request.method} after {attempt} "
                        f"attempts in {elapsed:.0f} s: {trouble.message}",
                        details={**trouble.details, "attempts": attempt},
                    ) from trouble
                self.log.failure(
                    "Koji call {method} failed (attempt {attempt}); "
                    "retrying in {duration_seconds:.1f} s",
                    Failure(trouble),
                    level=LogLevel.warn,
                    method=request.method,
                    attempt=attempt,
                    duration_seconds=delay,
                )
                await deferLater(self._clock, delay)
                attempt += 1

    async def attempt(
        self,
        request: HubRequest,
        session: Mapping[str, str],
        attempt: int,
        timeout_seconds: float | None = None,
    ) -> Any:
        """One HTTP round trip, timed and its failure counted (by method);
        ServerOffline becomes KojiUnavailable, and RetryError on a resend
        KojiAnswerLost."""
        self.round_trips += 1
        started = self._clock.seconds()
        try:
            value = await self._attempt(request, session, attempt, timeout_seconds)
        except KojiFault as fault:
            self.count_fault(request.method, fault)
            raise
        except KojiError:
            self._metrics.koji_transport_errors.labels(request.method).inc()
            raise
        finally:
            seconds = self._clock.seconds() - started
            self._metrics.koji_request_seconds.labels(request.method).observe(seconds)
        self.log.debug(
            "Koji call {method} took {duration_seconds:.3f} s",
            method=request.method,
            duration_seconds=seconds,
        )
        return value

    def count_fault(self, method: str, fault: KojiFault) -> None:
        """Count a Koji fault of ``method`` by its code (and name)."""
        labels = (method, str(fault.fault_code), fault.fault_name)
        self._metrics.koji_faults.labels(*labels).inc()

    async def _attempt(
        self,
        request: HubRequest,
        session: Mapping[str, str],
        attempt: int,
        timeout_seconds: float | None,
    ) -> Any:
        body = await post(
            self._http,
            request,
            session,
            clock=self._clock,
            timeout_seconds=timeout_seconds or self._timeout_seconds,
        )
        try:
            value = decode_response(body)
        except KojiFault as fault:
            if fault.fault_code == SERVER_OFFLINE:
                raise KojiUnavailable(
                    f"Koji hub is offline: {fault.message}",
                    details={"fault_code": SERVER_OFFLINE},
                ) from fault
            if fault.fault_code == RETRY_ERROR and attempt > 1:
                self.log.warn(
                    "Koji refused to repeat {method} after a lost reply "
                    "(attempt {attempt}): it ran",
                    method=request.method,
                    attempt=attempt,
                )
                raise KojiAnswerLost(
                    f"The answer to {request.method} was lost and Koji refused"
                    f" to run it again: {fault.message}"
                ) from fault
            raise
        return value
