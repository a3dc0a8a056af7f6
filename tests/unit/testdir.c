/* testdir.c -- scratch directories of the unit tests */
#include "autoconf.h"

#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

#include "tests/unit/testdir.h"

void
testdir_remove(const char *dir)
{
	struct dirent *e;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			char p[512];

			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}
