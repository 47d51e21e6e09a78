// xcpu_probe.hpp: how far apart two CPUs are right now, for capstan_loadgen.
//
// Why: on this benchmark's virtual machine the host moves the two vCPUs between physical
// cores. When they share a cache, a cache line crosses between them in ~100 ns; when they do
// not, in ~400 ns. A loopback echo moves dozens of cache lines (socket state, buffers) from
// one side to the other, so the same server costs ~2.5x more CPU per echo in the second state,
// and the state changes every few seconds. The probe bounces one cache line between the
// caller and a helper thread on the other CPU so that the load generator can tell which
// state every part of its window was measured in.

#pragma once

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>

class CrossCpuProbe {
public:
    // Starts the helper thread pinned to remote_cpu. It sleeps between measurements. It asks
    // for SCHED_FIFO (works as root) so that it preempts the server on that CPU at once,
    // instead of after a scheduler tick with the caller spinning meanwhile.
    explicit CrossCpuProbe(int remote_cpu) : thread_([this, remote_cpu] { helper(remote_cpu); }) {}

    ~CrossCpuProbe() {
        cmd_.store(kQuit);
        cmd_.notify_one();
        thread_.join();
    }

    CrossCpuProbe(const CrossCpuProbe&) = delete;
    CrossCpuProbe& operator=(const CrossCpuProbe&) = delete;

    // Median cache-line round trip in ns over a few short batches (a batch that the scheduler
    // interrupts is an outlier, not the median), or -1 if the helper did not run within 20 ms.
    double measure() {
        const uint64_t give_up = now() + 20'000'000;
        line_.store(0);
        cmd_.store(kServe);
        cmd_.notify_one();
        uint64_t v = 1;
        bool ok = bounce(v, give_up);  // the first trip also waits for the helper to run
        double batch_ns[kBatches];
        for (double& b : batch_ns) {
            const uint64_t t0 = now();
            for (int i = 0; i < kTrips && ok; ++i) ok = bounce(v += 2, give_up);
            b = double(now() - t0) / kTrips;
        }
        cmd_.store(kIdle);
        if (!ok) return -1;
        std::nth_element(batch_ns, batch_ns + kBatches / 2, batch_ns + kBatches);
        return batch_ns[kBatches / 2];
    }

private:
    static constexpr int kIdle = 0, kServe = 1, kQuit = 2;
    static constexpr int kBatches = 9, kTrips = 64;

    // Sends odd value v and waits for the helper's v + 1; false after the deadline.
    bool bounce(uint64_t v, uint64_t deadline) {
        line_.store(v, std::memory_order_release);
        for (unsigned n = 1; line_.load(std::memory_order_acquire) != v + 1; ++n)
            if ((n & 1023) == 0 && now() > deadline) return false;
        return true;
    }

    static uint64_t now() {
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
    }

    void helper(int cpu) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
        sched_param sp{};
        sp.sched_priority = 1;
        pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);  // best effort
        for (;;) {
            cmd_.wait(kIdle);
            const int c = cmd_.load();
            if (c == kQuit) return;
            if (c != kServe) continue;
            // Answer odd values with the next even one until told to stop; never spin more
            // than 5 ms at real-time priority, whatever happens to the caller.
            const uint64_t stop = now() + 5'000'000;
            for (unsigned n = 0; cmd_.load(std::memory_order_relaxed) == kServe; ++n) {
                const uint64_t v = line_.load(std::memory_order_acquire);
                if (v & 1) line_.store(v + 1, std::memory_order_release);
                if ((n & 1023) == 0 && now() > stop) break;
            }
            int expected = kServe;
            cmd_.compare_exchange_strong(expected, kIdle);
        }
    }

    alignas(64) std::atomic<uint64_t> line_{0};  // the cache line that bounces
    alignas(64) std::atomic<int> cmd_{kIdle};    // read-mostly: kept off the bouncing line
    std::thread thread_;                          // last: starts once the atomics exist
};
