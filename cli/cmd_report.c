/* loaxa report: what went on air over a month or a period (schedules/report.h),
 * in Vietnamese, as text for a terminal, CSV for a spreadsheet, or JSON. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "schedules/report.h"

static const struct option_spec specs[] = {
	{ "month", 1 }, { "from", 1 }, { "until", 1 }, { "category", 1 }, { "format", 1 },
	{ "separator", 1 }, { NULL, 0 },
};
static const char usage[] =
	"loaxa report (--month YYYY-MM | --from DATE --until DATE) [--category C]\n"
	"             [--format text|csv|html] [--separator C] [--json]\n"
	"  DATE is dd/mm/yyyy or YYYY-MM-DD; --separator is the CSV's (default ',';\n"
	"  ';' is what Excel expects under a Vietnamese locale)";

/* The period of the options into from/until; 0, or an exit status. */
static int read_period(const struct arguments *args, char from[11], char until[11])
{
	const char *month = option(args, specs, "month");
	const char *first = option(args, specs, "from"), *last = option(args, specs, "until");
	if (month && (first || last)) {
		fail_message("give either --month or --from and --until, not both");
		return EXIT_USAGE;
	}
	if (month) {
		char day_one[16];
		snprintf(day_one, sizeof day_one, "%.7s-01", month);
		if (strlen(month) != 7 || !tt_valid_date(day_one)) {
			fail_message("'%s' is not a month; use YYYY-MM, e.g. 2026-11", month);
			return EXIT_REFUSED;
		}
		snprintf(from, 11, "%s", day_one);
		char next[11];
		tt_add_days(from, 31, next);          /* into the next month */
		snprintf(next + 8, 3, "01");
		tt_add_days(next, -1, until);
		return 0;
	}
	if (!first && !last) {
		fail_message("say which period: --month YYYY-MM, or --from DATE --until DATE");
		return EXIT_USAGE;
	}
	return read_period_dates(first, last, from, until);
}

static double number(const cJSON *object, const char *key)
{
	const cJSON *item = cJSON_GetObjectItem(object, key);
	return cJSON_IsNumber(item) ? item->valuedouble : 0;
}

static const char *text(const cJSON *object, const char *key)
{
	const cJSON *item = cJSON_GetObjectItem(object, key);
	return cJSON_IsString(item) ? item->valuestring : "";
}

/* YYYY-MM-DD as dd/mm/yyyy */
static void vietnamese_date(const char *date, char out[11])
{
	snprintf(out, 11, "%.2s/%.2s/%.4s", date + 8, date + 5, date);
}

/* "1 giờ 05 phút 03 giây", "12 phút 00 giây", "45 giây" */
static void vietnamese_duration(double seconds, char *out, size_t size)
{
	long long s = (long long)(seconds + 0.5);
	if (s >= 3600)
		snprintf(out, size, "%lld giờ %02lld phút %02lld giây", s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(out, size, "%lld phút %02lld giây", s / 60, s % 60);
	else
		snprintf(out, size, "%lld giây", s);
}

static void rate_text(const cJSON *object, char *out, size_t size)
{
	const cJSON *rate = cJSON_GetObjectItem(object, "rate");
	if (cJSON_IsNumber(rate))
		snprintf(out, size, "%.1f%%", rate->valuedouble * 100);
	else
		snprintf(out, size, "—");
}

static const char *category_name(const char *category)
{
	return *category ? category : "(chưa phân loại)";
}

/* Prints text in a column `width` characters wide (UTF-8: a character is
 * counted once however many bytes it takes), left- or right-aligned. */
static void cell(const char *value, int width, int right)
{
	int length = 0;
	for (const char *p = value; *p; p++)
		length += ((unsigned char)*p & 0xC0) != 0x80;
	if (right)
		printf("%*s", width > length ? width - length : 0, "");
	fputs(value, stdout);
	if (!right)
		printf("%*s", width > length ? width - length : 0, "");
}

static void print_count_cells(const char *indent, const char *name, const char *const values[7])
{
	printf("%s", indent);
	cell(name, 44 - (int)strlen(indent), 0);
	for (int i = 0; i < 6; i++) {
		putchar(' ');
		cell(values[i], 9, 1);
	}
	printf("  %s\n", values[6]);
}

static void print_count_row(const char *indent, const char *name, const cJSON *counts)
{
	static const char *const keys[5] = { "planned", "aired", "partial", "missed", "failed" };
	char cells[7][64];
	const char *values[7];
	for (int i = 0; i < 5; i++)
		snprintf(cells[i], sizeof cells[i], "%.0f", number(counts, keys[i]));
	rate_text(counts, cells[5], sizeof cells[5]);
	vietnamese_duration(number(counts, "seconds_aired"), cells[6], sizeof cells[6]);
	for (int i = 0; i < 7; i++)
		values[i] = cells[i];
	print_count_cells(indent, name, values);
}

static void print_text(const cJSON *report)
{
	const cJSON *period = cJSON_GetObjectItem(report, "period");
	char from[11], until[11];
	vietnamese_date(text(period, "from"), from);
	vietnamese_date(text(period, "until"), until);
	printf("BÁO CÁO KẾT QUẢ PHÁT THANH\nTừ ngày %s đến ngày %s\n", from, until);
	if (*text(report, "category"))
		printf("Chuyên mục: %s\n", text(report, "category"));
	printf("\nI. CÁC CHƯƠNG TRÌNH THEO LỊCH\n");
	static const char *const headings[7] = { "Kế hoạch", "Phát đủ", "Phát dở", "Bỏ lỡ", "Lỗi",
						 "Tỷ lệ", "Thời lượng" };
	print_count_cells("  ", "Chuyên mục / chương trình", headings);
	const cJSON *category;
	cJSON_ArrayForEach(category, cJSON_GetObjectItem(report, "categories")) {
		print_count_row("  ", category_name(text(category, "category")), category);
		const cJSON *title;
		cJSON_ArrayForEach(title, cJSON_GetObjectItem(category, "titles"))
			print_count_row("    - ", text(title, "title"), title);
	}
	print_count_row("  ", "TỔNG CỘNG", cJSON_GetObjectItem(report, "totals"));

	printf("\nII. PHÁT THỦ CÔNG VÀ KHẨN CẤP\n");
	const cJSON *manual = cJSON_GetObjectItem(report, "manual");
	if (cJSON_GetArraySize(manual) == 0)
		printf("  (không có)\n");
	const cJSON *row;
	cJSON_ArrayForEach(row, manual) {
		char date[11], duration[64];
		vietnamese_date(text(row, "date"), date);
		vietnamese_duration(number(row, "seconds"), duration, sizeof duration);
		printf("  %s ", date);
		print_local_time(stdout, (int64_t)number(row, "started_ns"), 0);
		printf("  %-9s %s — %s, người thực hiện: %s%s%s\n", text(row, "priority"),
		       text(row, "title"), duration, *text(row, "triggered_by") ? text(row, "triggered_by") : "?",
		       *text(row, "reason") ? "; lý do: " : "", text(row, "reason"));
	}

	printf("\nIII. THEO NGÀY\n  ");
	cell("Ngày", 10, 0);
	static const char *const day_headings[3] = { "Kế hoạch", "Đã phát", "Thủ công" };
	for (int i = 0; i < 3; i++) {
		putchar(' ');
		cell(day_headings[i], 9, 1);
	}
	printf("  Thời lượng\n");
	const cJSON *day;
	cJSON_ArrayForEach(day, cJSON_GetObjectItem(report, "days")) {
		char date[11], duration[64];
		vietnamese_date(text(day, "date"), date);
		vietnamese_duration(number(day, "seconds_aired"), duration, sizeof duration);
		printf("  %-10s %9.0f %9.0f %9.0f  %s\n", date, number(day, "planned"),
		       number(day, "airings"), number(day, "manual"), duration);
	}
	const cJSON *chain = cJSON_GetObjectItem(report, "chain");
	if (*text(chain, "head"))
		printf("\nMã kiểm chứng nhật ký phát sóng (SHA-256, dòng thứ %.0f): %s\n"
		       "(kiểm tra lại bằng: loaxa log verify)\n", number(chain, "seq"), text(chain, "head"));
}

static void csv_counts(const char *kind, const char *category, const char *title,
		       const cJSON *counts, char separator)
{
	char cells[7][32];
	static const char *const keys[6] = { "planned", "aired", "partial", "missed", "failed",
					     "seconds_aired" };
	for (int i = 0; i < 5; i++)
		snprintf(cells[i], sizeof cells[i], "%.0f", number(counts, keys[i]));
	snprintf(cells[5], sizeof cells[5], "%.3f", number(counts, keys[5]));
	const cJSON *rate = cJSON_GetObjectItem(counts, "rate");
	snprintf(cells[6], sizeof cells[6], cJSON_IsNumber(rate) ? "%.4f" : "",
		 cJSON_IsNumber(rate) ? rate->valuedouble : 0);
	tt_csv_field(stdout, kind, separator, 0);
	tt_csv_field(stdout, category, separator, 0);
	tt_csv_field(stdout, title, separator, 0);
	for (int i = 0; i < 7; i++)
		tt_csv_field(stdout, cells[i], separator, i == 6);
}

/* One table, one header row: each line says what it counts (a title, a
 * category's sum, the total), so a spreadsheet can filter on it. */
static void print_csv(const cJSON *report, char separator)
{
	fputs("\xEF\xBB\xBF", stdout);   /* UTF-8 BOM: Excel reads the diacritics right */
	static const char *const header[10] = { "Loại", "Chuyên mục", "Chương trình", "Kế hoạch",
						"Phát đủ", "Phát dở", "Bỏ lỡ", "Lỗi",
						"Số giây đã phát", "Tỷ lệ" };
	for (int i = 0; i < 10; i++)
		tt_csv_field(stdout, header[i], separator, i == 9);
	const cJSON *category;
	cJSON_ArrayForEach(category, cJSON_GetObjectItem(report, "categories")) {
		const cJSON *title;
		cJSON_ArrayForEach(title, cJSON_GetObjectItem(category, "titles"))
			csv_counts("chương trình", text(category, "category"), text(title, "title"),
				   title, separator);
		csv_counts("chuyên mục", text(category, "category"), "", category, separator);
	}
	csv_counts("tổng cộng", "", "", cJSON_GetObjectItem(report, "totals"), separator);
	/* the chain's head, for `loaxa log verify` later */
	const cJSON *chain = cJSON_GetObjectItem(report, "chain");
	tt_csv_field(stdout, "mã kiểm chứng", separator, 0);
	tt_csv_field(stdout, "", separator, 0);
	tt_csv_field(stdout, text(chain, "head"), separator, 1);
}

/* Text for HTML: the five characters that mean something there escaped. */
static void html(const char *value)
{
	for (const char *p = value; *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", stdout); break;
		case '<': fputs("&lt;", stdout); break;
		case '>': fputs("&gt;", stdout); break;
		case '"': fputs("&quot;", stdout); break;
		case '\'': fputs("&#39;", stdout); break;
		default: putchar(*p);
		}
	}
}

static void html_count_row(const char *class, const char *name, const cJSON *counts)
{
	static const char *const keys[5] = { "planned", "aired", "partial", "missed", "failed" };
	char rate[16], duration[64];
	rate_text(counts, rate, sizeof rate);
	vietnamese_duration(number(counts, "seconds_aired"), duration, sizeof duration);
	printf("<tr class=\"%s\"><td>", class);
	html(name);
	printf("</td>");
	for (int i = 0; i < 5; i++)
		printf("<td class=\"n\">%.0f</td>", number(counts, keys[i]));
	printf("<td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n", rate, duration);
}

/* One printable page (A4) in the shape of a Vietnamese administrative
 * report: who it is from, the national motto, the title and period, the
 * tables, the chain's head, and places to sign. */
static void print_html(const cJSON *report, const struct settings *settings)
{
	const cJSON *period = cJSON_GetObjectItem(report, "period");
	char from[11], until[11], today[11];
	vietnamese_date(text(period, "from"), from);
	vietnamese_date(text(period, "until"), until);
	char iso_today[11];
	tt_local_date(now_ns(), iso_today);
	vietnamese_date(iso_today, today);
	printf("<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">\n"
	       "<title>Báo cáo kết quả phát thanh %s – %s</title>\n<style>\n"
	       "@page { size: A4; margin: 20mm 15mm 20mm 25mm; }\n"
	       "body { font-family: 'Times New Roman', 'DejaVu Serif', serif; font-size: 13pt;"
	       " color: #000; margin: 0; }\n"
	       ".head { display: flex; justify-content: space-between; text-align: center; }\n"
	       ".head > div { width: 48%%; } .upper { text-transform: uppercase; font-weight: bold; }\n"
	       ".motto { font-weight: bold; text-decoration: underline; }\n"
	       ".place { text-align: right; font-style: italic; margin: 6pt 0 12pt; }\n"
	       "h1 { text-align: center; font-size: 15pt; margin: 12pt 0 0; }\n"
	       "h2 { text-align: center; font-size: 13pt; font-weight: normal; margin: 2pt 0 12pt; }\n"
	       "h3 { font-size: 13pt; margin: 12pt 0 4pt; }\n"
	       "table { border-collapse: collapse; width: 100%%; font-size: 11pt; page-break-inside: auto; }\n"
	       "tr { page-break-inside: avoid; } thead { display: table-header-group; }\n"
	       "th, td { border: 1px solid #000; padding: 2pt 4pt; vertical-align: top; }\n"
	       "th { background: #eee; } td.n { text-align: right; white-space: nowrap; }\n"
	       "tr.category td { font-weight: bold; } tr.total td { font-weight: bold; background: #eee; }\n"
	       ".chain { font-size: 9pt; word-break: break-all; margin-top: 10pt; }\n"
	       ".sign { display: flex; justify-content: space-between; text-align: center;"
	       " margin-top: 24pt; page-break-inside: avoid; }\n"
	       ".sign > div { width: 45%%; } .sign .room { height: 60pt; }\n"
	       "</style></head><body>\n", from, until);
	printf("<div class=\"head\"><div><div class=\"upper\">");
	html(settings->organisation);
	printf("</div><div class=\"upper\">");
	html(settings->station_name);
	printf("</div></div><div><div class=\"upper\">Cộng hòa xã hội chủ nghĩa Việt Nam</div>"
	       "<div class=\"motto\">Độc lập - Tự do - Hạnh phúc</div></div></div>\n");
	printf("<p class=\"place\">Ngày %.2s tháng %.2s năm %.4s</p>\n", today, today + 3, today + 6);
	printf("<h1>BÁO CÁO</h1>\n<h2>Kết quả phát thanh từ ngày %s đến ngày %s", from, until);
	if (*text(report, "category")) {
		printf("<br>Chuyên mục: ");
		html(text(report, "category"));
	}
	printf("</h2>\n");

	printf("<h3>I. Các chương trình theo lịch</h3>\n<table><thead><tr><th>Chuyên mục / "
	       "chương trình</th><th>Kế hoạch</th><th>Phát đủ</th><th>Phát dở</th><th>Bỏ lỡ</th>"
	       "<th>Lỗi</th><th>Tỷ lệ</th><th>Thời lượng</th></tr></thead><tbody>\n");
	const cJSON *category;
	cJSON_ArrayForEach(category, cJSON_GetObjectItem(report, "categories")) {
		html_count_row("category", category_name(text(category, "category")), category);
		const cJSON *title;
		cJSON_ArrayForEach(title, cJSON_GetObjectItem(category, "titles"))
			html_count_row("title", text(title, "title"), title);
	}
	html_count_row("total", "Tổng cộng", cJSON_GetObjectItem(report, "totals"));
	printf("</tbody></table>\n");

	printf("<h3>II. Phát thủ công và khẩn cấp</h3>\n");
	const cJSON *manual = cJSON_GetObjectItem(report, "manual");
	if (cJSON_GetArraySize(manual) == 0)
		printf("<p>Không có.</p>\n");
	else
		printf("<table><thead><tr><th>Thời gian</th><th>Nội dung</th><th>Mức</th>"
		       "<th>Thời lượng</th><th>Người thực hiện</th><th>Lý do</th></tr></thead><tbody>\n");
	const cJSON *row;
	cJSON_ArrayForEach(row, manual) {
		char date[11], duration[64];
		vietnamese_date(text(row, "date"), date);
		vietnamese_duration(number(row, "seconds"), duration, sizeof duration);
		printf("<tr><td class=\"n\">%s ", date);
		print_local_time(stdout, (int64_t)number(row, "started_ns"), 0);
		printf("</td><td>");
		html(text(row, "title"));
		printf("</td><td>%s</td><td class=\"n\">%s</td><td>", text(row, "priority"), duration);
		html(text(row, "triggered_by"));
		printf("</td><td>");
		html(text(row, "reason"));
		printf("</td></tr>\n");
	}
	if (cJSON_GetArraySize(manual) > 0)
		printf("</tbody></table>\n");

	printf("<h3>III. Theo ngày</h3>\n<table><thead><tr><th>Ngày</th><th>Kế hoạch</th>"
	       "<th>Đã phát</th><th>Thủ công</th><th>Thời lượng</th></tr></thead><tbody>\n");
	const cJSON *day;
	cJSON_ArrayForEach(day, cJSON_GetObjectItem(report, "days")) {
		char date[11], duration[64];
		vietnamese_date(text(day, "date"), date);
		vietnamese_duration(number(day, "seconds_aired"), duration, sizeof duration);
		printf("<tr><td>%s</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td>"
		       "<td class=\"n\">%.0f</td><td class=\"n\">%s</td></tr>\n", date,
		       number(day, "planned"), number(day, "airings"), number(day, "manual"), duration);
	}
	printf("</tbody></table>\n");
	const cJSON *chain = cJSON_GetObjectItem(report, "chain");
	printf("<p class=\"chain\">Mã kiểm chứng nhật ký phát sóng (SHA-256, dòng thứ %.0f): "
	       "%s<br>Kiểm tra lại bằng lệnh: loaxa log verify</p>\n", number(chain, "seq"),
	       *text(chain, "head") ? text(chain, "head") : "—");
	printf("<div class=\"sign\"><div><b>NGƯỜI LẬP BÁO CÁO</b><br><i>(Ký, ghi rõ họ tên)</i>"
	       "<div class=\"room\"></div></div><div><b>THỦ TRƯỞNG ĐƠN VỊ</b><br><i>(Ký, ghi rõ "
	       "họ tên, đóng dấu)</i><div class=\"room\"></div></div></div>\n</body></html>\n");
}

int cmd_report(int argc, char **argv)
{
	struct arguments args;
	struct settings settings;
	int rc = begin_command(argc, argv, specs, usage, &args, &settings);
	if (rc >= 0)
		return rc;
	char from[11], until[11];
	if ((rc = read_period(&args, from, until)) != 0)
		return rc;
	const char *format = option(&args, specs, "format");
	const char *separator = option(&args, specs, "separator");
	int is_html = format && strcmp(format, "html") == 0;
	if ((rc = check_table_format(is_html ? NULL : format, separator)) != 0)
		return rc;
	format = format ? format : "text";
	struct tt *tt = open_timetable(&settings, TT_OPEN_EXISTING);
	if (!tt)
		return EXIT_REFUSED;
	cJSON *report = tt_report(tt, from, until, option(&args, specs, "category"));
	if (!report) {
		fail_message("%s", tt_error(tt));
		tt_close(tt);
		return EXIT_REFUSED;
	}
	if (args.json) {
		char *json = cJSON_PrintUnformatted(report);
		printf("%s\n", json ? json : "null");
		free(json);
	} else if (strcmp(format, "csv") == 0) {
		print_csv(report, separator ? *separator : ',');
	} else if (strcmp(format, "html") == 0) {
		print_html(report, &settings);
	} else {
		print_text(report);
	}
	cJSON_Delete(report);
	tt_close(tt);
	return EXIT_OK;
}
