/* Operator-facing sentences for media errors. */
#include <string.h>

#include "media/media.h"

const char *media_strerror(int err)
{
	switch (err) {
	case 0:
		return "no error";
	case MEDIA_ERR_EMPTY:
		return "the file is empty (0 bytes); ask for it to be sent again";
	case MEDIA_ERR_FORMAT:
		return "this is not an audio file loaxa can read (WAV, FLAC, Ogg Vorbis, Opus or MP3); "
		       "check that the right file was chosen";
	case MEDIA_ERR_CODEC:
		return "the file is audio, but coded in a way loaxa cannot play; "
		       "convert it to WAV, FLAC or MP3";
	case MEDIA_ERR_TRUNCATED:
		return "the file is truncated (it ends before its header says); "
		       "ask for it to be sent again";
	case MEDIA_ERR_NO_AUDIO:
		return "the file holds no sound at all (zero length); ask for it to be sent again";
	case MEDIA_ERR_CORRUPT:
		return "the file is damaged: its sound data cannot be read to the end; "
		       "ask for it to be sent again";
	case MEDIA_ERR_FORMAT_CHANGE:
		return "the file changes its sample rate or channels partway through; "
		       "convert it to WAV or re-encode it in one piece";
	case MEDIA_ERR_CHANGED:
		return "the file changed while it was being imported; wait until it is "
		       "completely copied, then import it again";
	case MEDIA_ERR_UNSEEKABLE:
		return "the file plays from its start, but not when opened part-way in, as "
		       "a broadcast is when it resumes after an emergency (it is damaged: "
		       "its seek table, its index or a frame); convert it to WAV or FLAC "
		       "again, or ask for it to be sent again";
	default:
		if (err < 0 && err > -4096)
			return strerror(-err);
		return "unknown media error";
	}
}
