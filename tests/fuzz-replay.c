/*
 * Without libFuzzer (no clang): run a fuzz target over corpus files given
 * on the command line, so the corpus still runs as a regression test.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Run one file through the target. */
static int
replay_file(const char *path)
{
	FILE		*f = fopen(path, "rb");
	uint8_t		*buf;
	long		 len;

	if (f == NULL)
		return (-1);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc(len > 0 ? (size_t)len : 1);
	if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		free(buf);
		return (-1);
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	return (0);
}

/* Each argument is a file or a directory of files; options are skipped. */
int
main(int argc, char **argv)
{
	struct dirent	*de;
	struct stat	 st;
	char		 path[4096];
	DIR		*d;
	int		 i, n = 0;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-' || stat(argv[i], &st) != 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			n += replay_file(argv[i]) == 0;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
			n += replay_file(path) == 0;
		}
		closedir(d);
	}
	printf("replayed %d inputs\n", n);
	return (0);
}
