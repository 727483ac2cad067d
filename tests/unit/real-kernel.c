// SPDX-License-Identifier: GPL-2.0-or-later
#include "real-kernel.h"

#include <dirent.h>

int real_kernel_modules(char **ret_modules_dir, char **ret_release)
{
	static const char *const bases[] = { "build/cache/kernel-6.1/lib/modules",
					     "build/cache/kernel-6.1.0-56-amd64/lib/modules" };

	for (size_t i = 0; i < ELEMENTSOF(bases); i++) {
		struct dirent **list = NULL;
		char *dir = NULL, *release = NULL, *dep = NULL;
		int n = scandir(bases[i], &list, NULL, alphasort);

		for (int j = 0; j < n; j++) {
			if (!release && list[j]->d_name[0] != '.')
				release = strdup(list[j]->d_name);
			free(list[j]);
		}
		free(list);
		if (!release)
			continue;
		if (asprintf(&dir, "%s/%s", bases[i], release) < 0 ||
		    asprintf(&dep, "%s/modules.dep.bin", dir) < 0 || access(dep, F_OK) < 0) {
			free(dir);
			free(dep);
			free(release);
			continue;
		}
		free(dep);
		*ret_modules_dir = dir;
		*ret_release = release;
		return 0;
	}
	return -ENOENT;
}
