#pragma once
// Private to lib/runtime: the database NodeRuntimes behind make_database_runtime().
#include <filesystem>
#include <memory>
#include <optional>

#include "runtime/database.hpp"

namespace devx::runtime::detail {

// The directory holding initdb/postgres/pg_isready, or nullopt.
std::optional<std::filesystem::path> postgres_bin_dir(const Context& context,
                                                      const Database& database);
// An executable on the context PATH, or nullopt.
std::optional<std::filesystem::path> find_tool(const Context& context, std::string_view name);

std::shared_ptr<NodeRuntime> make_postgres_host_runtime(const Database& database);
std::shared_ptr<NodeRuntime> make_redis_host_runtime(const Database& database);
std::shared_ptr<NodeRuntime> make_database_container_runtime(const Database& database,
                                                             ContainerEngine engine);

}  // namespace devx::runtime::detail
