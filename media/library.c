/* The library: files stored under their content hash. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "media/media_internal.h"

#define COPY_BLOCK_BYTES 65536

static int valid_name(const struct media_analysis *a)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((a->sha256_hex[i] >= '0' && a->sha256_hex[i] <= '9') ||
		      (a->sha256_hex[i] >= 'a' && a->sha256_hex[i] <= 'f')))
			return 0;
	if (a->sha256_hex[64] != '\0' || a->extension[0] == '\0')
		return 0;
	for (i = 0; i < sizeof(a->extension) && a->extension[i]; i++)
		if (!((a->extension[i] >= 'a' && a->extension[i] <= 'z') ||
		      (a->extension[i] >= '0' && a->extension[i] <= '9')))
			return 0;
	return i < sizeof(a->extension);
}

/* mkdir -p with mode 0755; *created is set if the last component was made. */
static int make_directories(const char *path, int *created)
{
	char buf[PATH_MAX];
	size_t len = strlen(path), i;

	*created = 0;
	if (len == 0 || len >= sizeof(buf))
		return len ? -ENAMETOOLONG : -EINVAL;
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) == 0) {
			*created = i == len;
		} else if (errno != EEXIST) {
			return -errno;
		} else if (i == len) {
			struct stat st;

			if (stat(buf, &st) < 0)
				return -errno;
			if (!S_ISDIR(st.st_mode))
				return -ENOTDIR;
		}
		buf[i] = i == len ? '\0' : '/';
	}
	return 0;
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

static int write_all(int fd, const unsigned char *bytes, size_t size)
{
	while (size > 0) {
		ssize_t n = write(fd, bytes, size);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		bytes += n;
		size -= (size_t)n;
	}
	return 0;
}

int media_library_room(const char *directory, int64_t file_bytes, int64_t *needed_bytes,
		       int64_t *free_bytes)
{
	struct statvfs fs;
	int64_t needed = file_bytes + MEDIA_LIBRARY_MARGIN_BYTES, available;

	if (statvfs(directory, &fs) < 0)
		return -errno;
	/* what an unprivileged writer may use: root's reserve is not counted */
	available = (int64_t)fs.f_bavail * (int64_t)fs.f_frsize;
	if (needed_bytes)
		*needed_bytes = needed;
	if (free_bytes)
		*free_bytes = available;
	return available >= needed ? 0 : -ENOSPC;
}

int media_library_store(const char *library_dir, const char *src_path,
			const struct media_analysis *analysis,
			char *stored_path, size_t stored_path_size)
{
	char relative[96], directory[PATH_MAX], final_path[PATH_MAX], temp_path[PATH_MAX];
	char hex[65];
	struct media_sha256 sha = { 0 };
	struct stat st;
	unsigned char *buffer = NULL;
	int64_t size, offset = 0;
	int src = -1, temp = -1, err, created_dir = 0, created_library = 0, temp_made = 0;

	if (!valid_name(analysis))
		return -EINVAL;
	snprintf(relative, sizeof(relative), "%.2s/%s.%s", analysis->sha256_hex,
		 analysis->sha256_hex, analysis->extension);
	if (strlen(relative) >= stored_path_size)
		return -ENAMETOOLONG;
	if ((size_t)snprintf(directory, sizeof(directory), "%s/%.2s", library_dir,
			     analysis->sha256_hex) >= sizeof(directory) ||
	    (size_t)snprintf(final_path, sizeof(final_path), "%s/%s", library_dir,
			     relative) >= sizeof(final_path) ||
	    (size_t)snprintf(temp_path, sizeof(temp_path), "%s/.%s.XXXXXX", directory,
			     analysis->sha256_hex) >= sizeof(temp_path))
		return -ENAMETOOLONG;

	err = make_directories(library_dir, &created_library);
	if (err < 0)
		goto fail;
	if (stat(final_path, &st) == 0 && S_ISREG(st.st_mode))
		goto done;

	src = media_open_regular(src_path, &size);
	if (src < 0) {
		err = src;
		goto fail;
	}
	/* room for the copy and the margin, before anything is written */
	err = media_library_room(library_dir, size, NULL, NULL);
	if (err < 0)
		goto fail;
	err = make_directories(directory, &created_dir);
	if (err < 0)
		goto fail;
	err = media_sha256_init(&sha);
	if (err < 0)
		goto fail;
	buffer = malloc(COPY_BLOCK_BYTES);
	if (!buffer) {
		err = -ENOMEM;
		goto fail;
	}
	temp = mkostemp(temp_path, O_CLOEXEC);
	if (temp < 0) {
		err = -errno;
		goto fail;
	}
	temp_made = 1;
	for (;;) {
		long n = media_pread_full(src, buffer, COPY_BLOCK_BYTES, offset);

		if (n < 0) {
			err = (int)n;
			goto fail;
		}
		if (n == 0)
			break;
		err = media_sha256_update(&sha, buffer, (size_t)n);
		if (err < 0)
			goto fail;
		err = write_all(temp, buffer, (size_t)n);
		if (err < 0)
			goto fail;
		offset += n;
	}
	err = media_sha256_final(&sha, hex);
	if (err < 0)
		goto fail;
	if (strcmp(hex, analysis->sha256_hex) != 0) {
		err = MEDIA_ERR_CHANGED;
		goto fail;
	}
	if (fchmod(temp, 0644) < 0 || fsync(temp) < 0) {
		err = -errno;
		goto fail;
	}
	if (close(temp) < 0) {
		temp = -1;
		err = -errno;
		goto fail;
	}
	temp = -1;
	if (rename(temp_path, final_path) < 0) {
		err = -errno;
		goto fail;
	}
	temp_made = 0;
	err = fsync_path(directory);
	if (err < 0)
		goto fail;
	if (created_dir) {
		err = fsync_path(library_dir);
		if (err < 0)
			goto fail;
	}
done:
	memcpy(stored_path, relative, strlen(relative) + 1);
	err = 0;
fail:
	if (temp >= 0)
		close(temp);
	if (temp_made)
		unlink(temp_path);
	/* a refused copy leaves no empty <ab>/ behind either */
	if (err < 0 && created_dir)
		rmdir(directory);
	if (src >= 0)
		close(src);
	if (sha.ctx)
		media_sha256_free(&sha);
	free(buffer);
	return err;
}
