// run.cpp: a C++ program using the installed repcollapse library.
//
//   run DIR name=value ...      e.g.  run out/a classes=2 per_class=100 frustration=0.05
//
// runs `run` through rc_command with --out DIR and the options given, collects
// what the CLI would print (the result line) in a std::string and prints it,
// then reads DIR/metrics.csv back and prints its number of rows and its last
// time. A progress callback counts the reports (and could cancel by
// returning non-zero). Bad input: the CLI's one-line error, exit status 2.
//
// Build: c++ run.cpp $(pkg-config --cflags --libs repcollapse)   (or CMake: see CMakeLists.txt)
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <repcollapse/command.h>
#include <repcollapse/repcollapse.h>

static size_t append(const char *data, size_t n, void *ctx) {
  static_cast<std::string *>(ctx)->append(data, n);
  return n;
}

static int count_progress(double fraction, void *ctx) {
  (void)fraction;
  ++*static_cast<long *>(ctx);
  return 0;  // non-zero would cancel the run (RC_ECANCELLED)
}

int main(int argc, char **argv) {
  if (argc < 2) {
    std::cerr << "usage: run DIR name=value ...\n";
    return 2;
  }
  std::vector<std::string> names{"out"}, vals{argv[1]};
  for (int k = 2; k < argc; k++) {
    std::string a = argv[k];
    std::string::size_type eq = a.find('=');
    names.push_back(a.substr(0, eq));
    vals.push_back(eq == std::string::npos ? "true" : a.substr(eq + 1));
  }
  std::vector<const char *> keys, values;
  for (size_t k = 0; k < names.size(); k++) {
    keys.push_back(names[k].c_str());
    values.push_back(vals[k].c_str());
  }
  std::string out;
  long reports = 0;
  rc_command_io io = {append, &out, nullptr, nullptr, count_progress, &reports};
  rc_error err;
  rc_status st = rc_command("run", keys.size(), keys.data(), values.data(), &io, &err);
  if (st != RC_OK) {
    std::cerr << err.msg << "\n";
    return st == RC_EINVAL || st == RC_EUNSTABLE ? 2 : 1;
  }
  std::cout << out;
  std::ifstream csv(std::string(argv[1]) + "/metrics.csv");
  std::string line, last;
  long rows = -1;  // the header
  while (std::getline(csv, line)) {
    rows++;
    last = line;
  }
  std::cout << "metrics.csv: " << rows << " rows, last t = " << last.substr(0, last.find(',')) << "\n";
  std::cerr << "progress reports: " << reports << " (library " << rc_version() << ")\n";
  return 0;
}
