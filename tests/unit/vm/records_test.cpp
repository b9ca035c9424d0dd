// The VM record and the attachments other domains add to it.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "vm/vm_record.hpp"
#include "vm_test_util.hpp"

namespace devx {
namespace {

using test::expect_error;
using test::parse;
namespace json = boost::json;

TEST(VmRecords, AttachmentsAreAddedAndReplacedByIdentity) {
  test::VmScratch s;
  auto context = s.context();
  vm::save_record(*context,
                  json::object{{"v", 1}, {"name", "vm1"}, {"attachments", json::array{}}});
  vm::record_attachment(*context, "vm1",
                        {{"kind", "dns"}, {"zone_id", "z1"}, {"record_id", "r1"}, {"name", "a"}});
  vm::record_attachment(*context, "vm1", {{"kind", "mesh"}, {"node", "n1"}, {"hostname", "vm1"}});
  // The same record again (renamed): replaced, not duplicated.
  vm::record_attachment(*context, "vm1",
                        {{"kind", "dns"}, {"zone_id", "z1"}, {"record_id", "r1"}, {"name", "b"}});
  const auto record = *vm::load_record(*context, "vm1");
  const auto& attachments = record.at("attachments").as_array();
  ASSERT_EQ(attachments.size(), 2u);
  EXPECT_EQ(attachments.at(0).at("kind"), "mesh");
  EXPECT_EQ(attachments.at(1).at("name"), "b");
  struct stat st {};
  ASSERT_EQ(::stat((s.devx_home() / "vm" / "vm1.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(VmRecords, AttachmentsNeedARecordAndAnIdentity) {
  test::VmScratch s;
  auto context = s.context();
  expect_error(
      [&] {
        vm::record_attachment(*context, "nope", {{"kind", "mesh"}, {"node", "n"}});
      },
      ErrorCode::not_found);
  vm::save_record(*context, json::object{{"v", 1}, {"name", "vm1"}});
  expect_error(
      [&] {
        vm::record_attachment(*context, "vm1", {{"kind", "dns"}});
      },
      ErrorCode::invalid_argument);
  expect_error(
      [&] {
        vm::record_attachment(*context, "vm1", {{"kind", "disk"}, {"id", "x"}});
      },
      ErrorCode::invalid_argument);
}

TEST(VmRecords, ForeignOrMismatchedFilesAreNotRecords) {
  test::VmScratch s;
  auto context = s.context();
  context->state().write("vm/vm1.json", R"({"v":2,"name":"vm1"})");
  EXPECT_FALSE(vm::load_record(*context, "vm1"));
  context->state().write("vm/vm1.json", R"({"v":1,"name":"other"})");
  EXPECT_FALSE(vm::load_record(*context, "vm1"));
  context->state().write("vm/vm1.json", "{broken");
  EXPECT_FALSE(vm::load_record(*context, "vm1"));
}

TEST(VmRecords, ForgettingTheCurrentVmClearsIt) {
  test::VmScratch s;
  auto context = s.context();
  vm::save_record(*context, json::object{{"v", 1}, {"name", "vm1"}});
  vm::set_current(*context, "vm1");
  vm::forget_record(*context, "vm2");
  EXPECT_TRUE(context->state().read("vm/current"));
  vm::forget_record(*context, "vm1");
  EXPECT_FALSE(context->state().read("vm/current"));
  EXPECT_FALSE(vm::load_record(*context, "vm1"));
}

}  // namespace
}  // namespace devx
