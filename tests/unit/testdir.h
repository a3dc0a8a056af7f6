/* testdir.h -- scratch directories of the unit tests: what they share */
#pragma once

/** Remove the regular files in dir (it holds no subdirectories in any
 * test) and then dir itself; what is already gone is no error. */
void testdir_remove(const char *dir);
