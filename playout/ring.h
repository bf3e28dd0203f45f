/*
 * A single-producer / single-consumer ring of interleaved float frames.
 * The producer (the feeder thread) and the consumer (the output thread) each
 * own one index; they publish with release stores and read the other's with
 * acquire loads, so neither ever blocks. Indexes count frames since reset and
 * only grow; capacity is a power of two.
 */
#ifndef LOAXA_RING_H
#define LOAXA_RING_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

struct frame_ring {
	float *samples;           /* capacity × channels, owned by the engine */
	uint64_t capacity;        /* frames, a power of two */
	int channels;
	_Atomic uint64_t write_index; /* written by the producer only */
	_Atomic uint64_t read_index;  /* written by the consumer only */
};

/* Only while neither thread uses the ring. */
static inline void frame_ring_reset(struct frame_ring *ring)
{
	atomic_store_explicit(&ring->write_index, 0, memory_order_relaxed);
	atomic_store_explicit(&ring->read_index, 0, memory_order_relaxed);
}

static inline uint64_t frame_ring_readable(struct frame_ring *ring)
{
	uint64_t w = atomic_load_explicit(&ring->write_index, memory_order_acquire);
	uint64_t r = atomic_load_explicit(&ring->read_index, memory_order_relaxed);
	return w - r;
}

static inline uint64_t frame_ring_writable(struct frame_ring *ring)
{
	uint64_t r = atomic_load_explicit(&ring->read_index, memory_order_acquire);
	uint64_t w = atomic_load_explicit(&ring->write_index, memory_order_relaxed);
	return ring->capacity - (w - r);
}

/* Producer: the contiguous free region (up to the wrap) to decode into. */
static inline float *frame_ring_write_region(struct frame_ring *ring, uint64_t *frames)
{
	uint64_t w = atomic_load_explicit(&ring->write_index, memory_order_relaxed);
	uint64_t offset = w & (ring->capacity - 1);
	uint64_t free_frames = frame_ring_writable(ring);
	uint64_t to_end = ring->capacity - offset;
	*frames = free_frames < to_end ? free_frames : to_end;
	return ring->samples + offset * (uint64_t)ring->channels;
}

static inline void frame_ring_commit_write(struct frame_ring *ring, uint64_t frames)
{
	uint64_t w = atomic_load_explicit(&ring->write_index, memory_order_relaxed);
	atomic_store_explicit(&ring->write_index, w + frames, memory_order_release);
}

/* Consumer: copies up to `frames` frames out; returns how many. */
static inline uint64_t frame_ring_read(struct frame_ring *ring, float *out, uint64_t frames)
{
	uint64_t available = frame_ring_readable(ring);
	if (frames > available)
		frames = available;
	uint64_t r = atomic_load_explicit(&ring->read_index, memory_order_relaxed);
	uint64_t done = 0;
	while (done < frames) {
		uint64_t offset = (r + done) & (ring->capacity - 1);
		uint64_t run = ring->capacity - offset;
		if (run > frames - done)
			run = frames - done;
		memcpy(out + done * (uint64_t)ring->channels,
		       ring->samples + offset * (uint64_t)ring->channels,
		       run * (uint64_t)ring->channels * sizeof(float));
		done += run;
	}
	atomic_store_explicit(&ring->read_index, r + frames, memory_order_release);
	return frames;
}

/* Consumer: drops up to `frames` frames unread; returns how many. */
static inline uint64_t frame_ring_skip(struct frame_ring *ring, uint64_t frames)
{
	uint64_t available = frame_ring_readable(ring);
	if (frames > available)
		frames = available;
	uint64_t r = atomic_load_explicit(&ring->read_index, memory_order_relaxed);
	atomic_store_explicit(&ring->read_index, r + frames, memory_order_release);
	return frames;
}

#endif
