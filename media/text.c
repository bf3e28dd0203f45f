/* Tag text to UTF-8; titles to one clean line. */
#include <string.h>

#include "media/media.h"
#include "media/media_internal.h"

/* Length of the valid UTF-8 sequence at s (at most `left` bytes), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
	size_t n, i;
	unsigned int c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

void media_clean_title(char *text)
{
	unsigned char *p = (unsigned char *)text;
	size_t length = strlen(text), start = 0, end;

	for (size_t i = 0; i < length; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f) {
			p[i] = ' ';
		} else if (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
			/* a C1 control (U+0080 to U+009F), two bytes: one space */
			p[i] = ' ';
			memmove(p + i + 1, p + i + 2, length - i - 1);
			length--;
		}
	}
	while (start < length && p[start] == ' ')
		start++;
	end = length;
	while (end > start && p[end - 1] == ' ')
		end--;
	memmove(p, p + start, end - start);
	p[end - start] = '\0';
}

void media_copy_text(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i, out = 0;
	int utf8 = 1;

	if (size == 0)
		return;
	for (i = 0; i < len; ) {
		size_t n = utf8_sequence(s + i, len - i);

		if (n == 0) {
			utf8 = 0;
			break;
		}
		i += n;
	}
	for (i = 0; i < len && s[i]; ) {
		unsigned char bytes[4];
		size_t n;

		if (utf8) {
			n = utf8_sequence(s + i, len - i);
			memcpy(bytes, s + i, n);
			i += n;
		} else if (s[i] < 0x80) {
			bytes[0] = s[i++];
			n = 1;
		} else {
			bytes[0] = (unsigned char)(0xc0 | (s[i] >> 6));
			bytes[1] = (unsigned char)(0x80 | (s[i] & 0x3f));
			i++;
			n = 2;
		}
		if (out + n >= size)
			break;
		memcpy(dst + out, bytes, n);
		out += n;
	}
	dst[out] = '\0';
	media_clean_title(dst);
}
