// Files for plain GETs: index.html for folders, content types, and nothing outside the folder.
#include "http/static_files.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace capstan::http {
namespace {

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/capstan-static-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    std::filesystem::create_directories(root_ + "/public/js");
    write("/public/index.html", "<h1>demo</h1>");
    write("/public/js/app.js", "console.log(1)");
    write("/public/.env", "SECRET=1");
    write("/outside.txt", "private");
    std::filesystem::create_directory_symlink(root_ + "/public", root_ + "/public/loop");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void write(const std::string& path, const std::string& text) { std::ofstream(root_ + path) << text; }
  bool get(std::string_view path, std::string& out, bool head = false) {
    out.clear();
    return append_static_file(out, root_ + "/public", path, head);
  }
  std::string root_;
};

TEST_F(StaticFiles, ServesFilesAndFolderIndexes) {
  std::string r;
  ASSERT_TRUE(get("/", r));
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(r.find("Content-Length: 13\r\n"), std::string::npos);
  EXPECT_EQ(r.substr(r.size() - 13), "<h1>demo</h1>");
  ASSERT_TRUE(get("/js/app.js", r));
  EXPECT_NE(r.find("Content-Type: text/javascript"), std::string::npos);
  ASSERT_TRUE(get("/", r, true));  // HEAD: the headers alone
  EXPECT_EQ(r.substr(r.size() - 4), "\r\n\r\n");
}

TEST_F(StaticFiles, RefusesAnythingOutsideOrHidden) {
  std::string r;
  for (std::string_view path : {"/../outside.txt", "/js/../../outside.txt", "/%2e%2e/outside.txt", "/.env",
                                "/js", "/missing.html", "", "relative.html", "/js\\..\\..\\outside.txt"}) {
    EXPECT_FALSE(get(path, r)) << path;
    EXPECT_TRUE(r.empty()) << path;
  }
  EXPECT_FALSE(append_static_file(r, "", "/index.html", false));  // no static_dir configured
}

TEST(StaticFileTypes, ByExtension) {
  EXPECT_EQ(content_type_for("/a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("/a.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("/a.json"), "application/json");
  EXPECT_EQ(content_type_for("/a"), "application/octet-stream");
}

}  // namespace
}  // namespace capstan::http
