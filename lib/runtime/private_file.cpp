#include "runtime/private_file.hpp"

#include <devx/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/unique_fd.hpp"

namespace devx::runtime {

void write_private_file(const std::filesystem::path& path, std::string_view content) {
  std::error_code ec;
  const auto parent = path.parent_path();
  if (!std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) throw Error(ErrorCode::io, "cannot create " + parent.string() + ": " + ec.message());
    ::chmod(parent.c_str(), 0700);  // only a directory we created: others keep their mode
  }
  // Written to a temporary name and renamed, so a reader never sees half a secret.
  const auto tmp = path.string() + ".tmp";
  core::UniqueFd fd(
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) throw Error(ErrorCode::io, "cannot write " + tmp + ": " + std::strerror(errno));
  ::fchmod(fd.get(), 0600);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::io, "cannot write " + tmp + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    throw Error(ErrorCode::io, "cannot write " + path.string() + ": " + std::strerror(errno));
  }
}

}  // namespace devx::runtime
