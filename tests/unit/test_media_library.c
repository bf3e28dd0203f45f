/* media library: files stored under their hash, atomically, once; refused
 * files never stored; the operator's sentences. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/statvfs.h>

#include "media/media.h"
#include "tests/fixtures/fixtures.h"

/* Every regular file under dir (recursively), counted. */
static int count_files(const char *dir, int *hidden)
{
	DIR *d = opendir(dir);
	struct dirent *entry;
	int count = 0;

	if (!d)
		return 0;
	while ((entry = readdir(d))) {
		char child[4200];
		struct stat st;

		if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, ".."))
			continue;
		snprintf(child, sizeof(child), "%s/%s", dir, entry->d_name);
		assert_int_equal(lstat(child, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			count += count_files(child, hidden);
		} else {
			count++;
			if (entry->d_name[0] == '.' && hidden)
				(*hidden)++;
		}
	}
	closedir(d);
	return count;
}

static int same_content(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int ca, cb, same = 1;

	assert_non_null(fa);
	assert_non_null(fb);
	do {
		ca = fgetc(fa);
		cb = fgetc(fb);
		if (ca != cb)
			same = 0;
	} while (same && ca != EOF);
	fclose(fa);
	fclose(fb);
	return same;
}

/* What `loaxa media import` does: analyse, and store only what passed. */
static int import(const char *library, const char *path, char *stored, size_t size)
{
	struct media_analysis a;
	int err = media_analyse(path, &a, NULL, NULL);

	if (err < 0)
		return err;
	return media_library_store(library, path, &a, stored, size);
}

static void test_store(void **state)
{
	char *dir = make_temp_dir(), library[4200], stored[128], again[128], full[4400];
	const char *source = fixture("mp3_mpeg1_44100_stereo_cbr.mp3");
	struct media_analysis a;
	struct stat st;
	int hidden = 0;
	(void)state;

	/* The library directory is made, parents too. */
	snprintf(library, sizeof(library), "%s/var/lib/loaxa/media", dir);
	assert_int_equal(media_analyse(source, &a, NULL, NULL), 0);
	assert_int_equal(media_library_store(library, source, &a, stored, sizeof(stored)), 0);
	assert_int_equal(strlen(stored), 2 + 1 + 64 + 4);
	assert_memory_equal(stored, a.sha256_hex, 2);
	assert_int_equal(stored[2], '/');
	assert_memory_equal(stored + 3, a.sha256_hex, 64);
	assert_string_equal(stored + 67, ".mp3");
	snprintf(full, sizeof(full), "%s/%s", library, stored);
	assert_true(same_content(full, source));
	assert_int_equal(stat(full, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	snprintf(full, sizeof(full), "%s/%.2s", library, a.sha256_hex);
	assert_int_equal(stat(full, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);

	/* Twice: the same place, nothing new, no temporary files left. */
	assert_int_equal(media_library_store(library, source, &a, again, sizeof(again)), 0);
	assert_string_equal(again, stored);
	assert_int_equal(import(library, source, again, sizeof(again)), 0);
	assert_string_equal(again, stored);
	assert_int_equal(count_files(library, &hidden), 1);
	assert_int_equal(hidden, 0);

	/* A second file lands beside it. */
	assert_int_equal(import(library, fixture("flac_s16_44100_stereo.flac"), again, sizeof(again)),
			 0);
	assert_string_equal(again + strlen(again) - 5, ".flac");
	assert_int_equal(count_files(library, NULL), 2);
	remove_tree(dir);
	free(dir);
}

static void test_store_refusals(void **state)
{
	char *dir = make_temp_dir(), library[4200], stored[128], copy[4200];
	const char *source = fixture("wav_s16_44100_stereo.wav");
	struct media_analysis a, bad;
	int hidden = 0;
	(void)state;

	snprintf(library, sizeof(library), "%s/library", dir);
	assert_int_equal(media_analyse(source, &a, NULL, NULL), 0);
	/* Too small for the relative path. */
	assert_int_equal(media_library_store(library, source, &a, stored, 40), -ENAMETOOLONG);
	/* An analysis that is not one. */
	memset(&bad, 0, sizeof(bad));
	assert_int_equal(media_library_store(library, source, &bad, stored, sizeof(stored)),
			 -EINVAL);
	bad = a;
	strcpy(bad.extension, "../x");
	assert_int_equal(media_library_store(library, source, &bad, stored, sizeof(stored)),
			 -EINVAL);
	/* The file changed after its analysis: refused, nothing kept. */
	snprintf(copy, sizeof(copy), "%s/changing.wav", dir);
	copy_file_part(source, copy, -1);
	assert_int_equal(media_analyse(copy, &a, NULL, NULL), 0);
	copy_file_part(fixture("wav_s16_44100_mono_s2.wav"), copy, -1);
	assert_int_equal(media_library_store(library, copy, &a, stored, sizeof(stored)),
			 MEDIA_ERR_CHANGED);
	assert_int_equal(count_files(library, &hidden), 0);
	{
		/* not even the folder the file would have gone in */
		char folder[4300];
		struct stat st;

		snprintf(folder, sizeof(folder), "%s/%.2s", library, a.sha256_hex);
		assert_int_equal(stat(folder, &st), -1);
	}
	/* The source vanished. */
	unlink(copy);
	assert_int_equal(media_library_store(library, copy, &a, stored, sizeof(stored)), -ENOENT);
	/* The library is a file. */
	assert_int_equal(media_library_store(source, source, &a, stored, sizeof(stored)), -ENOTDIR);
	assert_int_equal(count_files(library, NULL), 0);
	remove_tree(dir);
	free(dir);
}

/* Every file the analysis refuses is never stored. */
static void test_refused_not_stored(void **state)
{
	static const struct {
		const char *name;
		int err;
	} cases[] = {
		{"empty.wav", MEDIA_ERR_EMPTY},
		{"random.mp3", MEDIA_ERR_FORMAT},
		{"random.wav", MEDIA_ERR_FORMAT},
		{"text.wav", MEDIA_ERR_FORMAT},
		{"image.mp3", MEDIA_ERR_FORMAT},
		{"truncated.wav", MEDIA_ERR_TRUNCATED},
		{"truncated.mp3", MEDIA_ERR_TRUNCATED},
		{"truncated.flac", MEDIA_ERR_TRUNCATED},
		{"zero_frames.wav", MEDIA_ERR_NO_AUDIO},
		/* decodes whole, but playout could not resume it part-way in */
		{"flac_bad_seektable.flac", MEDIA_ERR_UNSEEKABLE},
		{"flac_junk_midframe.flac", MEDIA_ERR_UNSEEKABLE},
	};
	char *dir = make_temp_dir(), stored[128];
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(import(dir, fixture(cases[i].name), stored, sizeof(stored)),
				 cases[i].err);
	assert_int_equal(import(dir, fixture_dir(), stored, sizeof(stored)), -EISDIR);
	assert_int_equal(count_files(dir, NULL), 0);
	/* A silent file is audio: stored (the operator is warned elsewhere). */
	assert_int_equal(import(dir, fixture("silent.wav"), stored, sizeof(stored)), 0);
	assert_int_equal(count_files(dir, NULL), 1);
	remove_tree(dir);
	free(dir);
}

/* The free-space check compares the file and the margin with what statvfs
 * says an unprivileged writer may use (tests/e2e/test_media.sh fills a
 * small tmpfs for the refusal itself). */
static void test_room(void **state)
{
	char *dir = make_temp_dir();
	const int64_t slack = 64LL * 1024 * 1024;   /* others may write meanwhile */
	int64_t needed = -1, available = -1, free_now;
	struct statvfs fs;
	(void)state;

	assert_int_equal(statvfs(dir, &fs), 0);
	free_now = (int64_t)fs.f_bavail * (int64_t)fs.f_frsize;
	/* (the test needs a disk with some room: 64 MiB and the slack) */
	assert_true(free_now > MEDIA_LIBRARY_MARGIN_BYTES + 2 * slack);

	assert_int_equal(media_library_room(dir, 1000, &needed, &available), 0);
	assert_true(needed == 1000 + MEDIA_LIBRARY_MARGIN_BYTES);
	assert_true(available > free_now - slack && available < free_now + slack);
	/* a file that would leave less than the margin free is refused */
	assert_int_equal(media_library_room(dir, free_now - MEDIA_LIBRARY_MARGIN_BYTES + slack,
					    &needed, &available), -ENOSPC);
	assert_true(needed == free_now + slack);
	assert_int_equal(media_library_room(dir, free_now - MEDIA_LIBRARY_MARGIN_BYTES - slack,
					    NULL, NULL), 0);
	assert_int_equal(media_library_room(dir, INT64_MAX / 2, NULL, NULL), -ENOSPC);
	/* a filesystem that cannot be asked */
	assert_int_equal(media_library_room("/nonexistent/loaxa", 0, NULL, NULL), -ENOENT);
	remove_tree(dir);
	free(dir);
}

static void test_strerror(void **state)
{
	int err;
	(void)state;

	assert_string_equal(media_strerror(MEDIA_ERR_TRUNCATED),
			    "the file is truncated (it ends before its header says); "
			    "ask for it to be sent again");
	for (err = MEDIA_ERR_EMPTY; err <= MEDIA_ERR_UNSEEKABLE; err++) {
		const char *text = media_strerror(err);

		assert_non_null(text);
		assert_true(strlen(text) > 20);
		assert_null(strstr(text, "unknown"));
	}
	assert_string_equal(media_strerror(-ENOENT), strerror(ENOENT));
	assert_string_equal(media_strerror(-EISDIR), strerror(EISDIR));
	assert_string_equal(media_strerror(-EACCES), strerror(EACCES));
	assert_non_null(media_strerror(12345));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_store_refusals),
		cmocka_unit_test(test_refused_not_stored),
		cmocka_unit_test(test_room),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests_name("media_library", tests, NULL, NULL);
}
