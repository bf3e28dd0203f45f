/* The control socket's mechanism (scheduler/control_internal.h): request
 * lines up to exactly CONTROL_MAX_LINE bytes are read whole, however they
 * are cut; a longer one is refused once and skipped to its newline, the
 * next line in step; a newcomer takes a free place, its peer's longest
 * waiting one beyond its share, else the longest waiting of all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "scheduler/control.h"
#include "scheduler/control_internal.h"

struct framing {
	struct control_framer framer;
	char lines[8][64];        /* the first 63 bytes of each line read */
	size_t lengths[8];
	int line_count;
	int too_long;
	int skipped;
};

/* Feeds data in chunks of chunk bytes, as recv would hand it over. */
static void feed(struct framing *f, const char *data, size_t size, size_t chunk)
{
	for (size_t start = 0; start < size; start += chunk) {
		size_t length = size - start < chunk ? size - start : chunk;
		size_t offset = 0;
		while (offset < length) {
			size_t taken;
			enum control_frame frame = control_frame(&f->framer, data + start + offset,
								 length - offset, &taken);
			offset += taken;
			if (frame == CONTROL_FRAME_LINE) {
				assert_true(f->line_count < 8);
				snprintf(f->lines[f->line_count], sizeof f->lines[0], "%s", f->framer.line);
				f->lengths[f->line_count++] = f->framer.used;
			} else if (frame == CONTROL_FRAME_TOO_LONG) {
				f->too_long++;
			} else if (frame == CONTROL_FRAME_SKIPPED) {
				f->skipped++;
			}
		}
	}
}

static struct framing *framing_new(void)
{
	struct framing *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->framer.line = malloc(CONTROL_MAX_LINE + 1);
	assert_non_null(f->framer.line);
	return f;
}

static void framing_free(struct framing *f)
{
	free(f->framer.line);
	free(f);
}

/* size bytes of c, then a newline, then "next\n" */
static char *long_line(size_t size, char c, size_t *total)
{
	*total = size + 1 + 5;
	char *data = malloc(*total);
	assert_non_null(data);
	memset(data, c, size);
	memcpy(data + size, "\nnext\n", 6);
	return data;
}

static void lines_cut_anywhere_are_read_whole(void **state)
{
	(void)state;
	const char text[] = "{\"v\":1,\"cmd\":\"status\"}\n\nsecond\nthird";
	for (size_t chunk = 1; chunk <= sizeof text; chunk++) {
		struct framing *f = framing_new();
		feed(f, text, sizeof text - 1, chunk);
		assert_int_equal(f->line_count, 3);
		assert_string_equal(f->lines[0], "{\"v\":1,\"cmd\":\"status\"}");
		assert_int_equal(f->lengths[1], 0);   /* the blank line: the caller skips it */
		assert_string_equal(f->lines[2], "second");
		assert_int_equal(f->too_long, 0);
		feed(f, "\n", 1, 1);
		assert_string_equal(f->lines[3], "third");
		framing_free(f);
	}
}

static void a_line_of_exactly_the_limit_is_read(void **state)
{
	(void)state;
	size_t chunks[] = { 1000, 16384, CONTROL_MAX_LINE, CONTROL_MAX_LINE + 1, 1 << 20 };
	for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
		size_t total;
		char *data = long_line(CONTROL_MAX_LINE, 'x', &total);
		struct framing *f = framing_new();
		feed(f, data, total, chunks[k]);
		assert_int_equal(f->too_long, 0);
		assert_int_equal(f->line_count, 2);
		assert_int_equal(f->lengths[0], CONTROL_MAX_LINE);
		assert_string_equal(f->lines[1], "next");
		framing_free(f);
		free(data);
	}
}

static void a_longer_line_is_refused_once_and_skipped(void **state)
{
	(void)state;
	size_t sizes[] = { CONTROL_MAX_LINE + 1, 1 << 20 };
	size_t chunks[] = { 1, 16384, CONTROL_MAX_LINE + 1, 1 << 21 };
	for (size_t s = 0; s < 2; s++) {
		for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
			if (chunks[k] == 1 && sizes[s] > CONTROL_MAX_LINE + 1)
				continue;   /* a byte at a time through 1 MiB: slow, and no different */
			size_t total;
			char *data = long_line(sizes[s], 'y', &total);
			struct framing *f = framing_new();
			feed(f, data, total, chunks[k]);
			assert_int_equal(f->too_long, 1);
			assert_int_equal(f->skipped, 1);
			assert_int_equal(f->line_count, 1);
			assert_string_equal(f->lines[0], "next");
			framing_free(f);
			free(data);
		}
	}
}

static struct control_place place(pid_t pid, uid_t uid, int64_t waiting_since_ns)
{
	return (struct control_place){ .used = 1, .pid = pid, .uid = uid,
				       .waiting_since_ns = waiting_since_ns };
}

static void a_newcomer_takes_a_free_place(void **state)
{
	(void)state;
	struct control_place places[CONTROL_MAX_CLIENTS] = { 0 };
	places[0] = place(10, 1000, 5);
	places[2] = place(11, 1000, 1);
	int evict = -1;
	assert_int_equal(control_choose_place(places, CONTROL_MAX_CLIENTS, 12, 1000, 1, &evict), 1);
	assert_int_equal(evict, 0);
}

static void a_full_table_gives_up_its_longest_waiting(void **state)
{
	(void)state;
	struct control_place places[CONTROL_MAX_CLIENTS];
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		places[i] = place(100 + i, 2000 + (uid_t)i, 1000 - i);
	places[9].waiting_since_ns = 3;   /* connected first, never answered */
	int evict = 0;
	assert_int_equal(control_choose_place(places, CONTROL_MAX_CLIENTS, 99, 0, 0, &evict), 9);
	assert_int_equal(evict, 1);
}

static void a_process_beyond_its_share_gives_up_its_own(void **state)
{
	(void)state;
	struct control_place places[CONTROL_MAX_CLIENTS] = { 0 };
	for (int i = 0; i < CONTROL_MAX_PER_PEER; i++)
		places[2 * i] = place(42, 0, 100 + i);
	places[1] = place(7, 0, 1);            /* another's, waiting longer */
	int evict = 0;
	/* root's process: places are free, but it holds its share */
	assert_int_equal(control_choose_place(places, CONTROL_MAX_CLIENTS, 42, 0, 0, &evict), 0);
	assert_int_equal(evict, 1);
	/* another process of root's takes a free place */
	assert_int_equal(control_choose_place(places, CONTROL_MAX_CLIENTS, 43, 0, 0, &evict), 3);
	assert_int_equal(evict, 0);
}

static void a_user_beyond_its_share_gives_up_its_own(void **state)
{
	(void)state;
	struct control_place places[CONTROL_MAX_CLIENTS] = { 0 };
	for (int i = 0; i < CONTROL_MAX_PER_PEER; i++)
		places[i] = place(300 + i, 1001, 50 - i);
	int evict = 0;
	/* an operator's fifth, from a fifth process */
	assert_int_equal(control_choose_place(places, CONTROL_MAX_CLIENTS, 399, 1001, 1, &evict),
			 CONTROL_MAX_PER_PEER - 1);
	assert_int_equal(evict, 1);
	/* the station's own user (or root) has no share by user */
	assert_int_equal(control_choose_place(places, CONTROL_MAX_CLIENTS, 399, 1001, 0, &evict),
			 CONTROL_MAX_PER_PEER);
	assert_int_equal(evict, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_cut_anywhere_are_read_whole),
		cmocka_unit_test(a_line_of_exactly_the_limit_is_read),
		cmocka_unit_test(a_longer_line_is_refused_once_and_skipped),
		cmocka_unit_test(a_newcomer_takes_a_free_place),
		cmocka_unit_test(a_full_table_gives_up_its_longest_waiting),
		cmocka_unit_test(a_process_beyond_its_share_gives_up_its_own),
		cmocka_unit_test(a_user_beyond_its_share_gives_up_its_own),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
