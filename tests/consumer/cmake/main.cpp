// Loads a devx.yaml with a profile through the installed C++ API and prints the resolved project
// as JSON on stdout. Usage: devx-consumer-cxx PATH [PROFILE]
#include <devx/devx.hpp>

#include <iostream>

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: " << argv[0] << " PATH [PROFILE]\n";
    return 2;
  }
  devx::LoadOptions options;
  if (argc == 3) options.profile = argv[2];
  try {
    const devx::Project project = devx::load_project_or_throw(argv[1], options);
    std::cout << devx::project_to_json(project);
    std::cout.flush();
    return std::cout ? 0 : 1;
  } catch (const devx::Error& e) {
    std::cerr << "devx error " << devx::error_code_name(e.code()) << ": " << e.message() << "\n"
              << e.details_json() << "\n";
    return static_cast<int>(e.code());
  }
}
